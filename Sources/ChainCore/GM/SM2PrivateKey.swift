import CSMShim

/// An SM2 private key: signs with SM2 over SM3 and a user id (GB/T 32918.2-2016).
public struct SM2PrivateKey: Sendable {
    /// The OpenSSL key, for the certificate builder of `Identity`.
    package let storage: SM2KeyStorage
    /// The matching public key.
    public let publicKey: SM2PublicKey

    /// A fresh random key from OpenSSL's generator.
    public init() {
        guard let key = gm_sm2_generate() else {
            // Not input-dependent: OpenSSL lacks SM2 or its random source.
            preconditionFailure("SM2 key generation failed: \(OpenSSL.lastError())")
        }
        do {
            try self.init(storage: SM2KeyStorage(key))
        } catch {
            preconditionFailure("a generated SM2 key has no public point: \(error)")
        }
    }

    /// A key from its 32-byte big-endian scalar d, with 1 ≤ d ≤ n − 2 (`bad_key` otherwise).
    public init(rawRepresentation: [UInt8]) throws(ChainError) {
        var status: Int32 = 0
        guard let key = gm_sm2_private_from_scalar(rawRepresentation, rawRepresentation.count, &status) else {
            throw SM2KeyStorage.error(status, "an SM2 private key is a 32-byte scalar in [1, n-2]")
        }
        try self.init(storage: SM2KeyStorage(key))
    }

    /// A key from PEM: PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY", on the SM2 curve.
    /// Encrypted PEM is refused.
    public init(pemRepresentation: String) throws(ChainError) {
        var status: Int32 = 0
        let utf8 = Array(pemRepresentation.utf8)
        guard let key = gm_sm2_private_from_pem(utf8.map { CChar(bitPattern: $0) }, utf8.count, &status) else {
            throw SM2KeyStorage.error(status, "SM2 private key PEM (unencrypted PKCS#8 or SEC1)")
        }
        try self.init(storage: SM2KeyStorage(key))
    }

    private init(storage: SM2KeyStorage) throws(ChainError) {
        self.storage = storage
        // A public-only OpenSSL key, so that a cached public key never keeps the scalar alive.
        self.publicKey = try SM2PublicKey(rawRepresentation: try storage.publicPoint())
    }

    /// The 32-byte scalar d. Handle with care: Swift arrays cannot be wiped reliably.
    public var rawRepresentation: [UInt8] {
        var out = [UInt8](repeating: 0, count: SM2.privateKeyByteCount)
        guard gm_sm2_private_scalar(storage.key, &out) == GM_OK else {
            preconditionFailure("reading an SM2 private scalar failed: \(OpenSSL.lastError())")
        }
        return out
    }

    /// PKCS#8 PEM ("PRIVATE KEY"): id-ecPublicKey with the curve 1.2.156.10197.1.301.
    public var pemRepresentation: String {
        var out: UnsafeMutablePointer<CChar>?
        var count = 0
        guard gm_sm2_private_to_pem(storage.key, &out, &count) == GM_OK else {
            preconditionFailure("encoding an SM2 private key failed: \(OpenSSL.lastError())")
        }
        return OpenSSL.takeString(out, count: count, secret: true)
    }

    /// Signs `message`: e = SM3(Z || message) with Z from `userID` and the public key, a fresh
    /// random k from OpenSSL; returns the DER `SEQUENCE { r, s }` (70 to 72 bytes, rarely fewer).
    public func sign(message: [UInt8], userID: [UInt8] = SM2.defaultUserID) throws(ChainError) -> [UInt8] {
        try SM2.checkUserID(userID)
        var signature = [UInt8](repeating: 0, count: SM2.maxSignatureByteCount)
        var count = 0
        guard gm_sm2_sign(storage.key, userID, userID.count, message, message.count, &signature, &count) == GM_OK else {
            throw OpenSSL.failure("SM2 signing failed")
        }
        return Array(signature.prefix(count))
    }
}
