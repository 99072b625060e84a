import CSMShim

/// The SM4 block cipher of GB/T 32907-2016 (128-bit key and block) in CBC and CTR modes.
///
/// Neither mode authenticates: a changed ciphertext decrypts to changed data without notice.
/// For data at rest use ``SM4SealedBox``, which adds HMAC-SM3 (OpenSSL 3.0 has no SM4-GCM).
public enum SM4 {
    /// Key length in bytes.
    public static let keyByteCount = 16
    /// Block length in bytes, which is also the IV length.
    public static let blockByteCount = 16

    /// A fresh random key.
    public static func generateKey() -> [UInt8] { OpenSSL.randomBytes(keyByteCount) }

    /// A fresh random IV.
    public static func generateIV() -> [UInt8] { OpenSSL.randomBytes(blockByteCount) }

    /// SM4 in cipher block chaining mode with PKCS#7 padding.
    public enum CBC {
        /// Encrypts `plaintext` (any length); the result is 1 to 16 bytes longer.
        public static func encrypt(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8]) throws(ChainError) -> [UInt8] {
            try run(encrypt: true, plaintext, key: key, iv: iv)
        }

        /// Decrypts and removes the padding; throws `unseal_failed` when the length or the padding is wrong.
        public static func decrypt(_ ciphertext: [UInt8], key: [UInt8], iv: [UInt8]) throws(ChainError) -> [UInt8] {
            guard !ciphertext.isEmpty, ciphertext.count % SM4.blockByteCount == 0 else {
                throw ChainError(
                    .unsealFailed, "SM4-CBC ciphertext is a non-zero multiple of 16 bytes, got \(ciphertext.count)")
            }
            return try run(encrypt: false, ciphertext, key: key, iv: iv)
        }

        private static func run(encrypt: Bool, _ input: [UInt8], key: [UInt8], iv: [UInt8]) throws(ChainError) -> [UInt8] {
            try SM4.check(key: key, iv: iv)
            var out = [UInt8](repeating: 0, count: input.count + SM4.blockByteCount)
            var count = 0
            let status = gm_sm4_cbc(encrypt ? 1 : 0, key, iv, input, input.count, &out, &count)
            guard status == GM_OK else {
                if encrypt { throw OpenSSL.failure("SM4-CBC encryption failed") }
                gm_clear_errors()  // the cause is bad padding; OpenSSL says no more
                throw ChainError(.unsealFailed, "SM4-CBC decryption failed: wrong key, IV or corrupted data")
            }
            return Array(out.prefix(count))
        }
    }

    /// SM4 in counter mode: the IV is the first 128-bit big-endian counter block.
    public enum CTR {
        /// Encrypts `plaintext`; the result has the same length. Never reuse an IV with the same key.
        public static func encrypt(_ plaintext: [UInt8], key: [UInt8], iv: [UInt8]) throws(ChainError) -> [UInt8] {
            try apply(plaintext, key: key, iv: iv)
        }

        /// Decrypts `ciphertext` (the same operation as encryption).
        public static func decrypt(_ ciphertext: [UInt8], key: [UInt8], iv: [UInt8]) throws(ChainError) -> [UInt8] {
            try apply(ciphertext, key: key, iv: iv)
        }

        private static func apply(_ input: [UInt8], key: [UInt8], iv: [UInt8]) throws(ChainError) -> [UInt8] {
            try SM4.check(key: key, iv: iv)
            var out = [UInt8](repeating: 0, count: input.count)
            guard gm_sm4_ctr(key, iv, input, input.count, &out) == GM_OK else {
                throw OpenSSL.failure("SM4-CTR failed")
            }
            return out
        }
    }

    static func check(key: [UInt8], iv: [UInt8]) throws(ChainError) {
        guard key.count == keyByteCount else { throw ChainError(.badKey, "an SM4 key is 16 bytes, got \(key.count)") }
        guard iv.count == blockByteCount else { throw ChainError(.malformed, "an SM4 IV is 16 bytes, got \(iv.count)") }
    }
}
