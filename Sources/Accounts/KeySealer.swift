import ChainCore
import Crypto
import Foundation
import Identity

/// Keeps an account's password check value and its private key under that password: the
/// password hash and the key-wrapping key come from two PBKDF2 derivations with separate salts;
/// the key's PKCS#8 PEM is sealed with AES-GCM under the second.
struct KeySealer: Sendable {
    /// What is stored for one account.
    struct Sealed {
        var iterations: Int
        var passwordSalt: [UInt8]
        var passwordHash: [UInt8]
        var keySalt: [UInt8]
        var sealedKey: [UInt8]
    }

    let kdf: PasswordKDF

    /// Hashes `password` and seals `key` under it.
    func seal(password: String, key: SigningKey) throws -> Sealed {
        let pwSalt = PasswordKDF.randomBytes(16)
        let keySalt = PasswordKDF.randomBytes(16)
        let pwHash = try kdf.derive(password, salt: pwSalt)
        let wrap = SymmetricKey(data: try kdf.derive(password, salt: keySalt))
        let box = try AES.GCM.seal(Array(KeyPEM.encode(key).utf8), using: wrap)
        guard let combined = box.combined else { throw ChainError(.internalError, "AES-GCM sealing failed") }
        return Sealed(
            iterations: kdf.iterations, passwordSalt: pwSalt, passwordHash: pwHash, keySalt: keySalt, sealedKey: Array(combined))
    }

    /// True when `password` matches (constant-time comparison).
    static func matches(_ password: String, _ sealed: Sealed) throws -> Bool {
        let kdf = PasswordKDF(iterations: sealed.iterations)
        return PasswordKDF.equal(try kdf.derive(password, salt: sealed.passwordSalt), sealed.passwordHash)
    }

    /// The private key, opened with the (already checked) password.
    static func openKey(_ password: String, _ sealed: Sealed) throws -> SigningKey {
        let kdf = PasswordKDF(iterations: sealed.iterations)
        let wrap = SymmetricKey(data: try kdf.derive(password, salt: sealed.keySalt))
        let pem = try AES.GCM.open(try AES.GCM.SealedBox(combined: sealed.sealedKey), using: wrap)
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
