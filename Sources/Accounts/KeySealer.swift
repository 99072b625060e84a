import ChainCore
import Crypto
import Foundation
import Identity

/// Keeps an account's password check value and its private key under that password: the
/// password hash and the key-wrapping key come from two PBKDF2 derivations with separate salts;
/// the key's PKCS#8 PEM is sealed under the second with AES-256-GCM, or on `sm2` chains with SM4
/// (``SM4SealedBox``: SM4-CTR + HMAC-SM3). The scheme is stored beside the box (`key_scheme`).
struct KeySealer: Sendable {
    /// How a key is sealed.
    enum Scheme: String, Sendable {
        case aesGCM = "aes-gcm"
        case sm4 = "sm4"

        /// The scheme of a chain's suite: SM4 on `sm2`, AES-256-GCM otherwise.
        init(suite: CryptoSuite) { self = suite == .sm2 ? .sm4 : .aesGCM }
    }

    /// What is stored for one account.
    struct Sealed {
        var iterations: Int
        var passwordSalt: [UInt8]
        var passwordHash: [UInt8]
        var keySalt: [UInt8]
        var sealedKey: [UInt8]
        var scheme: Scheme
    }

    let kdf: PasswordKDF
    /// The scheme new seals use.
    let scheme: Scheme

    /// Hashes `password` and seals `key` under it.
    func seal(password: String, key: SigningKey) throws -> Sealed {
        let pwSalt = PasswordKDF.randomBytes(16)
        let keySalt = PasswordKDF.randomBytes(16)
        let pwHash = try kdf.derive(password, salt: pwSalt)
        let wrap = try kdf.derive(password, salt: keySalt)
        let pem = Array(KeyPEM.encode(key).utf8)
        let sealed: [UInt8]
        switch scheme {
        case .sm4:
            sealed = try SM4SealedBox.seal(pem, using: SM4SealedBox.Key(wrap))
        case .aesGCM:
            let box = try AES.GCM.seal(pem, using: SymmetricKey(data: wrap))
            guard let combined = box.combined else { throw ChainError(.internalError, "AES-GCM sealing failed") }
            sealed = Array(combined)
        }
        return Sealed(
            iterations: kdf.iterations, passwordSalt: pwSalt, passwordHash: pwHash, keySalt: keySalt, sealedKey: sealed,
            scheme: scheme)
    }

    /// True when `password` matches (constant-time comparison).
    static func matches(_ password: String, _ sealed: Sealed) throws -> Bool {
        let kdf = PasswordKDF(iterations: sealed.iterations)
        return PasswordKDF.equal(try kdf.derive(password, salt: sealed.passwordSalt), sealed.passwordHash)
    }

    /// The private key, opened with the (already checked) password; `unseal_failed` when the box
    /// does not open.
    static func openKey(_ password: String, _ sealed: Sealed) throws -> SigningKey {
        let kdf = PasswordKDF(iterations: sealed.iterations)
        let wrap = try kdf.derive(password, salt: sealed.keySalt)
        let pem: [UInt8]
        switch sealed.scheme {
        case .sm4:
            pem = try SM4SealedBox.open(sealed.sealedKey, using: SM4SealedBox.Key(wrap))
        case .aesGCM:
            do {
                pem = Array(try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed.sealedKey), using: SymmetricKey(data: wrap)))
            } catch {
                throw ChainError(.unsealFailed, "the account's sealed key does not open: altered, or another password")
            }
        }
        guard let text = String(bytes: pem, encoding: .utf8) else {
            throw ChainError(.storageCorrupt, "the account's key does not decrypt to PEM")
        }
        return try KeyPEM.decode(text)
    }

    /// Spends the time of a real check, so that unknown names do not answer faster.
    func spendCheckTime(_ password: String) {
        _ = try? kdf.derive(password, salt: Array(repeating: 0, count: 16))
    }
}
