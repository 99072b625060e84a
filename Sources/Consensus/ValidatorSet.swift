import ChainCore

/// The validators of a chain in leader order, with their public keys.
///
/// n validators tolerate f = ⌊(n−1)/3⌋ Byzantine ones; a quorum is ⌊2n/3⌋+1 (2f+1 when n = 3f+1).
public struct ValidatorSet: Sendable, Hashable {
    /// Node ids in leader order.
    public let ids: [String]
    /// Raw public key per node id.
    public let keys: [String: [UInt8]]

    /// Creates a set; ids must be unique and each must have a key.
    public init(ids: [String], keys: [String: [UInt8]]) throws(ChainError) {
        guard !ids.isEmpty, Set(ids).count == ids.count else {
            throw ChainError(.badValidatorSet, "validator ids must be non-empty and unique")
        }
        guard ids.allSatisfy({ keys[$0] != nil }) else {
            throw ChainError(.badValidatorSet, "every validator needs a public key")
        }
        self.ids = ids
        self.keys = keys
    }

    /// Number of validators.
    public var count: Int { ids.count }
    /// Byzantine validators tolerated.
    public var faultTolerance: Int { (count - 1) / 3 }
    /// Votes (or timeouts) that make a certificate.
    public var quorum: Int { count * 2 / 3 + 1 }

    /// The leader of `round` (round-robin).
    public func leader(of round: UInt64) -> String { ids[Int(round % UInt64(count))] }

    /// True when `id` is a validator.
    public func contains(_ id: String) -> Bool { keys[id] != nil }
}

/// Signs consensus messages with this replica's key and checks other validators' signatures.
/// The real implementation uses the chain's suite; the simulation uses a cheap keyed hash.
public protocol ConsensusCrypto: Sendable {
    /// This replica's node id.
    var selfID: String { get }
    /// Signs `message` as `selfID`.
    func sign(_ message: [UInt8]) -> [UInt8]
    /// True when `signature` is `signer`'s signature over `message`.
    func verify(signer: String, message: [UInt8], signature: [UInt8]) -> Bool
    /// The chain's hash function, which makes block ids.
    var hasher: ChainHasher { get }
}

extension ConsensusCrypto {
    /// SHA-256, unless the crypto says otherwise (the simulation's keyed hash keeps it).
    public var hasher: ChainHasher { .sha256 }
}

/// `ConsensusCrypto` over the chain's crypto suite and the validators' keys.
public struct SuiteCrypto: ConsensusCrypto {
    /// This replica's id.
    public let selfID: String
    let key: SigningKey
    let suite: CryptoSuite
    let keys: [String: [UInt8]]

    /// Creates the crypto for `selfID` holding `key`.
    public init(selfID: String, key: SigningKey, validators: ValidatorSet) {
        self.selfID = selfID
        self.key = key
        self.suite = key.suite
        self.keys = validators.keys
    }

    public func sign(_ message: [UInt8]) -> [UInt8] {
        // Signing with a valid in-memory key does not fail; an empty signature would simply not verify.
        (try? key.sign(message)) ?? []
    }

    public func verify(signer: String, message: [UInt8], signature: [UInt8]) -> Bool {
        guard let k = keys[signer] else { return false }
        return suite.verify(signature: signature, message: message, publicKey: k)
    }

    /// The suite's hash function.
    public var hasher: ChainHasher { suite.hasher }
}
