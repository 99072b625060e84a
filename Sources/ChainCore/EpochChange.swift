import Foundation

/// A change of the validator set as light clients check it: from `firstHeight` on, blocks are
/// final when `validators` (node ids with their raw public keys, in leader order) sign them. The
/// validators of the previous epoch sign the statement right after they execute the block that
/// made the change; a quorum of their signatures carries trust from one set to the next, so a
/// proof can be checked from the genesis alone (`docs/proofs.md`).
public struct EpochChange: Sendable, Hashable {
    /// One validator of the new set.
    public struct Member: Sendable, Hashable {
        /// Node id.
        public let nodeId: String
        /// Raw public key of the chain's suite.
        public let publicKey: [UInt8]

        /// Creates a member.
        public init(nodeId: String, publicKey: [UInt8]) {
            self.nodeId = nodeId
            self.publicKey = publicKey
        }
    }

    /// The chain.
    public let chainId: String
    /// The new epoch's number (1 for the first change).
    public let epoch: UInt64
    /// The first block height the new set signs.
    public let firstHeight: UInt64
    /// The new set.
    public let validators: [Member]

    /// Creates a statement.
    public init(chainId: String, epoch: UInt64, firstHeight: UInt64, validators: [Member]) {
        self.chainId = chainId
        self.epoch = epoch
        self.firstHeight = firstHeight
        self.validators = validators
    }

    /// Domain separation tag of the signed bytes.
    public static let domain = "XIANGCHAIN-EPOCH-V1"

    /// The bytes the previous set signs: tag, chain id, epoch, first height, then each member's
    /// id and key (length-prefixed, u32 big-endian lengths; u64 big-endian numbers).
    public var signingMessage: [UInt8] {
        var w = BinaryWriter()
        w.string(Self.domain)
        w.string(chainId)
        w.u64(epoch)
        w.u64(firstHeight)
        w.u32(UInt32(validators.count))
        for v in validators {
            w.string(v.nodeId)
            w.lengthPrefixed(v.publicKey)
        }
        return w.bytes
    }

    /// Signatures needed from a set of `n` validators: 1 for one, 2f+1 of n = 3f+1 otherwise.
    public static func quorum(of n: Int) -> Int { n == 1 ? 1 : n * 2 / 3 + 1 }

    /// The JSON form in proofs and `GET /v1/governance/epochs` (keys base64).
    public func json(signatures: [ValidatorSignature]) -> JSONValue {
        .object([
            "epoch": .int(Int64(epoch)), "firstHeight": .int(Int64(firstHeight)),
            "validators": .array(
                validators.map {
                    .object([
                        "nodeId": .string($0.nodeId), "publicKey": .string(Data($0.publicKey).base64EncodedString()),
                    ])
                }),
            "signatures": .array(
                signatures.map {
                    .object([
                        "validator": .string($0.validator), "signature": .string(Data($0.signature).base64EncodedString()),
                    ])
                }),
        ])
    }

    /// Reads the JSON form: the statement and its signatures.
    public static func parse(_ json: JSONValue, chainId: String) throws(ChainError) -> (EpochChange, [ValidatorSignature]) {
        func fail(_ m: String) -> ChainError { ChainError(.proofInvalid, "epoch change: \(m)") }
        guard let epoch = json["epoch"]?.int64Value, epoch > 0, let first = json["firstHeight"]?.int64Value, first > 0,
            let list = json["validators"]?.arrayValue, !list.isEmpty, list.count <= 1024,
            let sigs = json["signatures"]?.arrayValue, sigs.count <= 1024
        else { throw fail("epoch, firstHeight, validators and signatures are required") }
        var members: [Member] = []
        for v in list {
            guard let id = v["nodeId"]?.stringValue, let b64 = v["publicKey"]?.stringValue, let key = Data(base64Encoded: b64)
            else { throw fail("a validator needs nodeId and publicKey (base64)") }
            members.append(Member(nodeId: id, publicKey: Array(key)))
        }
        var signatures: [ValidatorSignature] = []
        for s in sigs {
            guard let v = s["validator"]?.stringValue, let b64 = s["signature"]?.stringValue, let sig = Data(base64Encoded: b64)
            else { throw fail("a signature needs validator and signature (base64)") }
            signatures.append(ValidatorSignature(validator: v, signature: Array(sig)))
        }
        return (
            EpochChange(chainId: chainId, epoch: UInt64(epoch), firstHeight: UInt64(first), validators: members), signatures
        )
    }
}
