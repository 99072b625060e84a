/// Authenticated encryption for data at rest, built from SM4-CTR and HMAC-SM3
/// (encrypt-then-MAC), since OpenSSL 3.0 offers SM4 in CBC and CTR but not GCM.
///
/// Format, version 1 (`docs/sealed-box.md` has the details and a test vector):
///
///     version (1 byte, 0x01) || IV (16 random bytes) || ciphertext (as long as the plaintext)
///       || tag (32 bytes)
///
/// with `tag = HMAC-SM3(macKey, version || IV || UInt64BE(aad.count) || aad || ciphertext)` and
/// the SM4 and HMAC keys derived from one 32-byte key by HKDF-SM3.
public enum SM4SealedBox {
    /// The format version this code writes.
    public static let version: UInt8 = 1
    /// Length of the key given to ``Key/init(_:)``.
    public static let keyByteCount = 32
    /// Bytes that sealing adds: version, IV and tag.
    public static let overhead = 1 + 16 + 32

    static let info: [UInt8] = Array("XiangChain SM4-CTR+HMAC-SM3 sealed box v1".utf8)

    /// The two keys of a sealed box, derived once from a 32-byte key.
    public struct Key: Sendable {
        let encryptionKey: [UInt8]
        let macKey: [UInt8]

        /// Derives the SM4 key (16 bytes) and the HMAC-SM3 key (32 bytes) from a 32-byte key with
        /// HKDF-SM3 (no salt, a fixed label), so the two never share key material.
        public init(_ key: [UInt8]) throws(ChainError) {
            guard key.count == SM4SealedBox.keyByteCount else {
                throw ChainError(.badKey, "a sealed-box key is 32 bytes, got \(key.count)")
            }
            let okm = try HMACSM3.deriveKey(from: key, salt: [], info: SM4SealedBox.info, count: 48)
            encryptionKey = Array(okm[0..<16])
            macKey = Array(okm[16..<48])
        }

        /// A fresh random 32-byte key, as raw bytes to store in a key store.
        public static func generateRaw() -> [UInt8] { OpenSSL.randomBytes(SM4SealedBox.keyByteCount) }
    }

    /// Encrypts and authenticates `plaintext`, binding `authenticating` (not stored in the box) too.
    public static func seal(_ plaintext: [UInt8], using key: Key, authenticating aad: [UInt8] = []) throws(ChainError)
        -> [UInt8]
    {
        try seal(plaintext, using: key, authenticating: aad, iv: SM4.generateIV())
    }

    /// Sealing with a given IV: for test vectors only, never with a repeated IV.
    package static func seal(_ plaintext: [UInt8], using key: Key, authenticating aad: [UInt8], iv: [UInt8])
        throws(ChainError) -> [UInt8]
    {
        let ciphertext = try SM4.CTR.encrypt(plaintext, key: key.encryptionKey, iv: iv)
        var box = [version] + iv
        box.reserveCapacity(overhead + plaintext.count)
        box += ciphertext
        box += tag(header: Array(box[0..<17]), aad: aad, ciphertext: ciphertext, key: key)
        return box
    }

    /// Checks the tag in constant time, then decrypts; throws `unseal_failed` on any change to
    /// the box, an unknown version, or a different `authenticating` value or key.
    public static func open(_ box: [UInt8], using key: Key, authenticating aad: [UInt8] = []) throws(ChainError)
        -> [UInt8]
    {
        guard box.count >= overhead else {
            throw ChainError(.unsealFailed, "a sealed box is at least \(overhead) bytes, got \(box.count)")
        }
        guard box[0] == version else {
            throw ChainError(.unsealFailed, "sealed box version \(box[0]) is not supported (expected \(version))")
        }
        let header = Array(box[0..<17])
        let ciphertext = Array(box[17..<(box.count - 32)])
        let expected = tag(header: header, aad: aad, ciphertext: ciphertext, key: key)
        guard constantTimeEqual(Array(box.suffix(32)), expected) else {
            throw ChainError(.unsealFailed, "the sealed box was altered, or the key or associated data differ")
        }
        return try SM4.CTR.decrypt(ciphertext, key: key.encryptionKey, iv: Array(header[1..<17]))
    }

    private static func tag(header: [UInt8], aad: [UInt8], ciphertext: [UInt8], key: Key) -> [UInt8] {
        var input = header
        input.reserveCapacity(header.count + 8 + aad.count + ciphertext.count)
        let length = UInt64(aad.count)
        for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        input += aad
        input += ciphertext
        return HMACSM3.authenticationCode(for: input, key: key.macKey)
    }
}
