import Crypto
import Synchronization

/// The signature and hash algorithms of a chain, fixed at genesis.
public enum CryptoSuite: String, Sendable, Codable, CaseIterable {
    /// Ed25519 signatures (raw 64-byte), SHA-256 hashes. The default.
    case ed25519
    /// ECDSA P-256 with SHA-256, DER-encoded signatures; SHA-256 hashes.
    case p256
    /// SM2 signatures with SM3 and the user id `1234567812345678` (GB/T 32918, GM/T 0009),
    /// DER-encoded; SM3 hashes (GB/T 32905). Through the system's OpenSSL 3.
    case sm2

    /// The hash function of the chain's identifiers and commitments.
    public var hasher: ChainHasher {
        switch self {
        case .ed25519, .p256: return .sha256
        case .sm2: return .sm3
        }
    }

    /// Verifies `signature` over `message` with a raw public key of this suite
    /// (32 bytes for Ed25519; the 65-byte uncompressed point for P-256 and SM2). False for
    /// anything malformed, and for an Ed25519 key or R of small order (`Ed25519Verification`).
    /// An Ed25519 signature is held to `ed25519`'s equation: the cofactorless one unless told
    /// (transactions' signatures are held to the cofactored one, `Ed25519Rule`).
    public func verify(
        signature: [UInt8], message: [UInt8], publicKey: [UInt8], ed25519 rule: Ed25519Rule = .cofactorless
    ) -> Bool {
        switch self {
        case .ed25519:
            return Ed25519Verification.verify(signature: signature, message: message, publicKey: publicKey, rule: rule)
        case .p256:
            guard let key = try? P256.Signing.PublicKey(x963Representation: publicKey),
                let sig = try? P256.Signing.ECDSASignature(derRepresentation: signature)
            else { return false }
            return key.isValidSignature(sig, for: message)
        case .sm2:
            guard let key = SM2KeyCache.shared.key(publicKey) else { return false }
            return key.verify(signature: signature, message: message)
        }
    }

    /// The verdicts of `verify(signature:message:publicKey:ed25519: .cofactored)` for every item,
    /// in order: transactions' signatures. Ed25519 checks them together
    /// (`Ed25519Verification.verify(batch:)`: the same verdicts, faster); the other suites one by
    /// one.
    public func verify(batch items: [(signature: [UInt8], message: [UInt8], publicKey: [UInt8])]) -> [Bool] {
        switch self {
        case .ed25519: return Ed25519Verification.verify(batch: items)
        case .p256, .sm2: return items.map { verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
        }
    }

    /// Verifies like `verify(signature:message:publicKey:)` and says why not: `malformed_signature`
    /// when the bytes are not a signature of this suite's encoding at all (an Ed25519 signature is
    /// 64 bytes; a P-256 or SM2 signature is a DER `SEQUENCE` of two positive `INTEGER`s),
    /// `bad_signature` when they are but do not verify.
    public func check(
        signature: [UInt8], message: [UInt8], publicKey: [UInt8], what: String, ed25519 rule: Ed25519Rule = .cofactorless
    ) throws(ChainError) {
        guard isWellFormed(signature: signature),
            verify(signature: signature, message: message, publicKey: publicKey, ed25519: rule)
        else { throw signatureFailure(signature: signature, what: what) }
    }

    /// The error `check` gives for `signature` when it does not verify, for a verdict found
    /// elsewhere (`verify(batch:)`): `malformed_signature` or `bad_signature`.
    public func signatureFailure(signature: [UInt8], what: String) -> ChainError {
        guard isWellFormed(signature: signature) else {
            return ChainError(
                .malformedSignature,
                "\(what) signature is not an \(rawValue) signature (\(self == .ed25519 ? "64 raw bytes" : "DER SEQUENCE { r, s }"))"
            )
        }
        return ChainError(.badSignature, "\(what) signature does not verify")
    }

    /// Whether `signature` has this suite's encoding (not whether it verifies).
    public func isWellFormed(signature: [UInt8]) -> Bool {
        switch self {
        case .ed25519: return signature.count == 64
        case .p256, .sm2: return DERSignature.parse(signature) != nil
        }
    }
}

/// The two integers of a DER ECDSA-style signature, `SEQUENCE { INTEGER r, INTEGER s }`, read
/// strictly: minimal lengths, positive, no trailing bytes, each at most 33 bytes.
enum DERSignature {
    static func parse(_ der: [UInt8]) -> (r: ArraySlice<UInt8>, s: ArraySlice<UInt8>)? {
        guard der.count >= 8, der.count <= 72, der[0] == 0x30, Int(der[1]) == der.count - 2, der[1] < 0x80 else { return nil }
        var i = 2
        func integer() -> ArraySlice<UInt8>? {
            guard i + 2 <= der.count, der[i] == 0x02 else { return nil }
            let length = Int(der[i + 1])
            guard length >= 1, length <= 33, i + 2 + length <= der.count else { return nil }
            let body = der[(i + 2)..<(i + 2 + length)]
            let first = body[body.startIndex]
            // Positive, and minimal: no leading zero unless the next byte has its top bit set.
            guard first & 0x80 == 0 else { return nil }
            if length > 1, first == 0, body[body.startIndex + 1] & 0x80 == 0 { return nil }
            guard body.contains(where: { $0 != 0 }) else { return nil }
            i += 2 + length
            return body
        }
        guard let r = integer(), let s = integer(), i == der.count else { return nil }
        return (r, s)
    }
}

/// Parsed SM2 public keys by their 65 raw bytes, so that each signer's key is validated once and
/// its Z value (over the default user id) is computed once: parsing costs ≈ 15 % of a
/// verification. Bounded: emptied when full (a validator set and the active signers fit easily).
final class SM2KeyCache: Sendable {
    static let shared = SM2KeyCache()
    static let limit = 20_000
    private let keys = Mutex<[Raw: SM2PublicKey]>([:])

    /// The key bytes, hashed in one call (an array hashes element by element: 66 calls).
    private struct Raw: Hashable {
        let bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    func key(_ raw: [UInt8]) -> SM2PublicKey? {
        if let hit = keys.withLock({ $0[Raw(bytes: raw)] }) { return hit }
        guard let key = try? SM2PublicKey(rawRepresentation: raw) else { return nil }
        keys.withLock {
            if $0.count >= Self.limit { $0.removeAll(keepingCapacity: true) }
            $0[Raw(bytes: raw)] = key
        }
        return key
    }
}

/// A private signing key of one of the suites.
public struct SigningKey: Sendable {
    enum Backing: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
        case sm2(SM2PrivateKey)
    }
    let backing: Backing

    /// A fresh random key of the suite.
    public static func generate(_ suite: CryptoSuite) -> SigningKey {
        switch suite {
        case .ed25519: return SigningKey(backing: .ed25519(Curve25519.Signing.PrivateKey()))
        case .p256: return SigningKey(backing: .p256(P256.Signing.PrivateKey()))
        case .sm2: return SigningKey(backing: .sm2(SM2PrivateKey()))
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

    /// An SM2 key from its 32-byte scalar d, 1 ≤ d ≤ n − 2.
    public init(sm2Raw raw: [UInt8]) throws(ChainError) {
        backing = .sm2(try SM2PrivateKey(rawRepresentation: raw))
    }

    init(backing: Backing) { self.backing = backing }

    /// The suite this key belongs to.
    public var suite: CryptoSuite {
        switch backing {
        case .ed25519: return .ed25519
        case .p256: return .p256
        case .sm2: return .sm2
        }
    }

    /// The raw public key, in the form `CryptoSuite.verify` takes.
    public var publicKeyBytes: [UInt8] {
        switch backing {
        case .ed25519(let k): return Array(k.publicKey.rawRepresentation)
        case .p256(let k): return Array(k.publicKey.x963Representation)
        case .sm2(let k): return k.publicKey.rawRepresentation
        }
    }

    /// The private key bytes (Ed25519 seed, P-256 or SM2 scalar).
    public var rawPrivateKey: [UInt8] {
        switch backing {
        case .ed25519(let k): return Array(k.rawRepresentation)
        case .p256(let k): return Array(k.rawRepresentation)
        case .sm2(let k): return k.rawRepresentation
        }
    }

    /// Signs the message: raw 64 bytes under Ed25519, DER ECDSA under P-256, DER SM2 (SM3, the
    /// default user id) under SM2.
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        switch backing {
        case .ed25519(let k): return Array(try k.signature(for: message))
        case .p256(let k): return Array(try k.signature(for: message).derRepresentation)
        case .sm2(let k): return try k.sign(message: message)
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

    /// The OpenSSL SM2 key, for building certificates.
    public var sm2Key: SM2PrivateKey? {
        if case .sm2(let k) = backing { return k }
        return nil
    }

    /// Wraps an existing Ed25519 key.
    public init(_ key: Curve25519.Signing.PrivateKey) { backing = .ed25519(key) }
    /// Wraps an existing P-256 key.
    public init(_ key: P256.Signing.PrivateKey) { backing = .p256(key) }
    /// Wraps an existing SM2 key.
    public init(_ key: SM2PrivateKey) { backing = .sm2(key) }
}
