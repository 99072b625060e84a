import Crypto

/// The signature and hash algorithms of a chain, fixed at genesis.
public enum CryptoSuite: String, Sendable, Codable, CaseIterable {
    /// Ed25519 signatures (raw 64-byte), SHA-256 hashes. The default.
    case ed25519
    /// ECDSA P-256 with SHA-256, DER-encoded signatures; SHA-256 hashes.
    case p256

    /// Verifies `signature` over `message` with a raw public key of this suite
    /// (32 bytes for Ed25519; the 65-byte uncompressed X9.63 point for P-256).
    public func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        switch self {
        case .ed25519:
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
            return key.isValidSignature(signature, for: message)
        case .p256:
            guard let key = try? P256.Signing.PublicKey(x963Representation: publicKey),
                let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(sig, for: message)
        }
    }
}

/// A private signing key of one of the suites.
public struct SigningKey: Sendable {
    enum Backing: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
    }
    let backing: Backing

    /// A fresh random key of the suite.
    public static func generate(_ suite: CryptoSuite) -> SigningKey {
        switch suite {
        case .ed25519: return SigningKey(backing: .ed25519(Curve25519.Signing.PrivateKey()))
        case .p256: return SigningKey(backing: .p256(P256.Signing.PrivateKey()))
        }
    }

    /// An Ed25519 key from its 32-byte seed (deterministic; for test vectors).
    public init(ed25519Seed seed: [UInt8]) throws(ChainError) {
        do {
            backing = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: seed))
        } catch {
            throw ChainError(.badKey, "an Ed25519 seed is 32 bytes")
        }
    }

    /// A P-256 key from its 32-byte scalar.
    public init(p256Raw raw: [UInt8]) throws(ChainError) {
        do {
            backing = .p256(try P256.Signing.PrivateKey(rawRepresentation: raw))
        } catch {
            throw ChainError(.badKey, "a P-256 private key is a 32-byte scalar below the group order")
        }
    }

    init(backing: Backing) { self.backing = backing }

    /// The suite this key belongs to.
    public var suite: CryptoSuite {
        switch backing {
        case .ed25519: return .ed25519
        case .p256: return .p256
        }
    }

    /// The raw public key, in the form `CryptoSuite.verify` takes.
    public var publicKeyBytes: [UInt8] {
        switch backing {
        case .ed25519(let k): return Array(k.publicKey.rawRepresentation)
        case .p256(let k): return Array(k.publicKey.x963Representation)
        }
    }

    /// The private key bytes (Ed25519 seed or P-256 scalar).
    public var rawPrivateKey: [UInt8] {
        switch backing {
        case .ed25519(let k): return Array(k.rawRepresentation)
        case .p256(let k): return Array(k.rawRepresentation)
        }
    }

    /// Signs the message: raw 64 bytes under Ed25519, DER ECDSA under P-256.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        switch backing {
        case .ed25519(let k): return Array(try k.signature(for: message))
        case .p256(let k): return Array(try k.signature(for: message).derRepresentation)
        }
    }

    /// The Crypto key, for building certificates.
    public var ed25519Key: Curve25519.Signing.PrivateKey? {
        if case .ed25519(let k) = backing { return k }
        return nil
    }

    /// The Crypto key, for building certificates.
    public var p256Key: P256.Signing.PrivateKey? {
        if case .p256(let k) = backing { return k }
        return nil
    }

    /// Wraps an existing Ed25519 key.
    public init(_ key: Curve25519.Signing.PrivateKey) { backing = .ed25519(key) }
    /// Wraps an existing P-256 key.
    public init(_ key: P256.Signing.PrivateKey) { backing = .p256(key) }
}
