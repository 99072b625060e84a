import Crypto

/// Encryption of what a node keeps secret at rest (personal data of real-name accounts, complaint
/// contacts) under the node's data key, with the chain's suite deciding the cipher: SM4 on `sm2`
/// chains (SM4-CTR + HMAC-SM3, encrypt-then-MAC: ``SM4SealedBox``), AES-256-GCM on the others.
///
/// A box starts with its scheme byte, so any node opens what any suite wrote:
///
///     0x01 ‖ IV (16) ‖ ciphertext ‖ HMAC-SM3 tag (32)     SM4SealedBox v1 (its version byte)
///     0x02 ‖ nonce (12) ‖ ciphertext ‖ GCM tag (16)       AES-256-GCM
///
/// Both bind `context` (associated data, not stored): a box moved to another row, field or file
/// does not open. The two schemes use separate keys derived from the one data key (HKDF-SM3 and
/// HKDF-SHA256 with distinct labels). Described in `docs/crypto.md`, "Data at rest".
public struct AtRestCipher: Sendable {
    /// Scheme byte of SM4 boxes (equal to ``SM4SealedBox/version``).
    public static let sm4Scheme: UInt8 = 0x01
    /// Scheme byte of AES-256-GCM boxes.
    public static let aesGCMScheme: UInt8 = 0x02
    /// Length of the data key.
    public static let keyByteCount = 32

    /// The scheme this cipher writes.
    public let scheme: UInt8
    let sm4: SM4SealedBox.Key
    let aes: SymmetricKey

    static let aesInfo = Array("XiangChain AES-256-GCM at rest v1".utf8)

    /// A cipher writing the scheme of `suite` (SM4 on `sm2`, AES-256-GCM otherwise) under the
    /// 32-byte data key `key`.
    public init(key: [UInt8], suite: CryptoSuite) throws(ChainError) {
        guard key.count == Self.keyByteCount else {
            throw ChainError(.badKey, "the data key is \(Self.keyByteCount) bytes, got \(key.count)")
        }
        scheme = suite == .sm2 ? Self.sm4Scheme : Self.aesGCMScheme
        sm4 = try SM4SealedBox.Key(key)
        aes = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key), info: Self.aesInfo, outputByteCount: 32)
    }

    /// Encrypts and authenticates `plaintext`, bound to `context`.
    public func seal(_ plaintext: [UInt8], context: String) throws(ChainError) -> [UInt8] {
        let aad = Array(context.utf8)
        if scheme == Self.sm4Scheme { return try SM4SealedBox.seal(plaintext, using: sm4, authenticating: aad) }
        do {
            guard let combined = try AES.GCM.seal(plaintext, using: aes, authenticating: aad).combined else {
                throw ChainError(.internalError, "AES-GCM sealing failed")
            }
            return [Self.aesGCMScheme] + Array(combined)
        } catch let e as ChainError {
            throw e
        } catch {
            throw ChainError(.internalError, "AES-GCM sealing failed: \(error)")
        }
    }

    /// Opens a box of either scheme; `unseal_failed` when it was altered, is cut short, has an
    /// unknown scheme, or was sealed under another key or context.
    public func open(_ box: [UInt8], context: String) throws(ChainError) -> [UInt8] {
        let aad = Array(context.utf8)
        switch box.first {
        case Self.sm4Scheme:
            return try SM4SealedBox.open(box, using: sm4, authenticating: aad)
        case Self.aesGCMScheme:
            guard box.count >= 1 + 12 + 16 else {
                throw ChainError(.unsealFailed, "an AES-GCM box is at least 29 bytes, got \(box.count)")
            }
            do {
                let sealed = try AES.GCM.SealedBox(combined: box[1...])
                return Array(try AES.GCM.open(sealed, using: aes, authenticating: aad))
            } catch {
                throw ChainError(.unsealFailed, "the AES-GCM box was altered, or the key or context differ")
            }
        case nil:
            throw ChainError(.unsealFailed, "an empty box")
        case let other?:
            throw ChainError(.unsealFailed, "unknown at-rest scheme \(other)")
        }
    }

    /// Seals a string (UTF-8).
    public func seal(string: String, context: String) throws(ChainError) -> [UInt8] {
        try seal(Array(string.utf8), context: context)
    }

    /// Opens a box holding a UTF-8 string.
    public func openString(_ box: [UInt8], context: String) throws(ChainError) -> String {
        let bytes = try open(box, context: context)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw ChainError(.unsealFailed, "a sealed string is not UTF-8")
        }
        return s
    }
}
