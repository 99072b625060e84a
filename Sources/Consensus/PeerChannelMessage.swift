import ChainCore

/// A message between validators as it arrives from the peer network: a channel byte, then the
/// channel's body (`docs/consensus.md`). 0 = consensus, 1 = a finality signature of a chain
/// block, 2 = gossiped transactions, 3 = a validator's signature of an epoch change, 4 = a
/// request for the sender's finality signatures of a range of heights.
///
/// `decode` is the one reader of these bytes from other validators: the consensus driver calls
/// it for every inbound message, and the fuzzing harness (`docs/fuzzing.md`) feeds it hostile input.
/// `encoded` is the one writer: every sender, the fuzzing seeds and the tests make their bytes there.
public enum PeerChannelMessage: Sendable {
    /// Channel 0.
    case consensus(ConsensusMessage)
    /// Channel 1: a validator's signature of the chain block at `height` with header hash `headerHash`.
    case finality(height: UInt64, headerHash: Hash256, signature: [UInt8])
    /// Channel 2: transactions one validator's clients submitted.
    case transactions([SignedTransaction])
    /// Channel 3: a validator's signature of the change that started `epoch`.
    case epochSignature(epoch: UInt64, signature: [UInt8])
    /// Channel 4: asks for the receiver's finality signatures of `count` heights from `from`.
    case finalityRequest(from: UInt64, count: UInt32)

    /// Most transactions in one gossip message.
    public static let maxGossipTransactions = 1024

    /// The message in `bytes` of a chain hashing with `hasher`, or nil when the channel is unknown
    /// or the body malformed (truncated, oversized fields, trailing bytes).
    public static func decode(_ bytes: [UInt8], hasher: ChainHasher) -> PeerChannelMessage? {
        guard let channel = bytes.first else { return nil }
        let body = Array(bytes.dropFirst())
        switch channel {
        case 0:
            return (try? ConsensusMessage.decode(body, hasher: hasher)).map { PeerChannelMessage.consensus($0) }
        case 1:
            var r = BinaryReader(body, maxFieldLength: 1024)
            guard let height = try? r.u64(), let hash = try? r.hash(), let sig = try? r.lengthPrefixed(), (try? r.finish()) != nil
            else { return nil }
            return .finality(height: height, headerHash: hash, signature: sig)
        case 2:
            return (try? TransactionBatch.decode(body, maxCount: maxGossipTransactions, hasher: hasher)).map {
                PeerChannelMessage.transactions($0)
            }
        case 3:
            var r = BinaryReader(body, maxFieldLength: 1024)
            guard let epoch = try? r.u64(), let sig = try? r.lengthPrefixed(), (try? r.finish()) != nil else { return nil }
            return .epochSignature(epoch: epoch, signature: sig)
        case 4:
            var r = BinaryReader(body, maxFieldLength: 16)
            guard let from = try? r.u64(), let count = try? r.u32(), (try? r.finish()) != nil else { return nil }
            return .finalityRequest(from: from, count: count)
        default:
            return nil
        }
    }

    /// The wire bytes: the channel byte, then the channel's body, as `decode` reads them.
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        switch self {
        case .consensus(let m):
            return [0] + m.encoded
        case .finality(let height, let headerHash, let signature):
            w.u64(height)
            w.hash(headerHash)
            w.lengthPrefixed(signature)
            return [1] + w.bytes
        case .transactions(let txs):
            return [2] + TransactionBatch.encode(txs)
        case .epochSignature(let epoch, let signature):
            w.u64(epoch)
            w.lengthPrefixed(signature)
            return [3] + w.bytes
        case .finalityRequest(let from, let count):
            w.u64(from)
            w.u32(count)
            return [4] + w.bytes
        }
    }
}
