import ChainCore

/// The messages replicas exchange. `encoded`/`decode` give the wire form (docs/consensus.md).
public enum ConsensusMessage: Sendable, Hashable {
    /// A leader's block, with the TC for the previous round when it entered its round by timeout.
    case proposal(ConsensusBlock, tc: TimeoutCertificate?)
    /// A vote, sent to the leader of the next round.
    case vote(Vote)
    /// A timeout, broadcast, with the TC by which the sender entered its round (so laggards catch up).
    case timeout(TimeoutMessage, tc: TimeoutCertificate?)
    /// Asks for a block and up to `count` of its ancestors.
    case blockRequest(id: Hash256, count: UInt32)
    /// Blocks answering a request, highest first.
    case blockResponse([ConsensusBlock])
    /// A QC whose block's parent is committed (the two are in consecutive rounds), sent to a
    /// replica still in the QC's epoch after that epoch ended: it commits up to the epoch's last
    /// block (fetching the blocks), and its driver then starts the next epoch.
    case commitProof(QuorumCertificate)
    /// Asks a peer that is in a later epoch for the `commitProof` that ends `epoch`.
    case proofRequest(epoch: UInt64)

    /// Most blocks in one response.
    public static let maxBlocksPerResponse = 256
    /// Most signatures in one certificate (bounds decoding work for hostile input).
    public static let maxSigners = 1024

    /// The epoch the message belongs to, when it names one (a block request does not; a block
    /// response is that of its first block).
    public var epoch: UInt64? {
        switch self {
        case .proposal(let b, _): return b.epoch
        case .vote(let v): return v.data.epoch
        case .timeout(let t, _): return t.epoch
        case .blockRequest: return nil
        case .blockResponse(let blocks): return blocks.first?.epoch
        case .commitProof(let qc): return qc.epoch
        case .proofRequest(let e): return e
        }
    }

    /// Wire version 1 is the layout from before epochs: only epoch-0 messages of the first five
    /// kinds. Anything else is version 2 (every vote data and TC carries its epoch).
    var version: UInt8 {
        switch self {
        case .proposal(let b, let tc): return b.epoch == 0 && (tc?.epoch ?? 0) == 0 ? 1 : 2
        case .vote(let v): return v.data.epoch == 0 ? 1 : 2
        case .timeout(let t, let tc): return t.epoch == 0 && (tc?.epoch ?? 0) == 0 ? 1 : 2
        case .blockRequest: return 1
        case .blockResponse(let blocks): return blocks.allSatisfy { $0.epoch == 0 } ? 1 : 2
        case .commitProof, .proofRequest: return 2
        }
    }

    /// The wire bytes.
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        let v = version
        w.u8(v)
        switch self {
        case .proposal(let b, let tc):
            w.u8(1)
            Self.write(b, &w, version: v)
            ConsensusMessage.writeOptional(tc, &w, version: v)
        case .vote(let vote):
            w.u8(2)
            vote.data.write(into: &w, version: v)
            w.string(vote.signer)
            w.lengthPrefixed(vote.signature)
        case .timeout(let t, let tc):
            w.u8(3)
            w.u64(t.round)
            Self.write(t.highQC, &w, version: v)
            w.string(t.signer)
            w.lengthPrefixed(t.signature)
            ConsensusMessage.writeOptional(tc, &w, version: v)
        case .blockRequest(let id, let count):
            w.u8(4)
            w.hash(id)
            w.u32(count)
        case .blockResponse(let blocks):
            w.u8(5)
            w.u32(UInt32(blocks.count))
            for b in blocks { Self.write(b, &w, version: v) }
        case .commitProof(let qc):
            w.u8(6)
            Self.write(qc, &w, version: v)
        case .proofRequest(let epoch):
            w.u8(7)
            w.u64(epoch)
        }
        return w.bytes
    }

    /// Decodes wire bytes of a chain hashing with `hasher` (block ids); refuses unknown versions
    /// and tags, truncation, oversized counts and trailing bytes.
    public static func decode(_ bytes: [UInt8], hasher: ChainHasher) throws(ChainError) -> ConsensusMessage {
        var r = BinaryReader(bytes)
        let v = try r.u8()
        guard v == 1 || v == 2 else { throw .decoding("unknown consensus message version") }
        let message: ConsensusMessage
        switch try r.u8() {
        case 1:
            let b = try readBlock(&r, version: v, hasher: hasher)
            let tc = try readOptionalTC(&r, version: v)
            message = .proposal(b, tc: tc)
        case 2:
            message = .vote(
                Vote(data: try VoteData.read(&r, version: v), signer: try r.string(), signature: try r.lengthPrefixed()))
        case 3:
            let t = TimeoutMessage(
                round: try r.u64(), highQC: try readQC(&r, version: v), signer: try r.string(), signature: try r.lengthPrefixed())
            message = .timeout(t, tc: try readOptionalTC(&r, version: v))
        case 4:
            message = .blockRequest(id: try r.hash(), count: try r.u32())
        case 5:
            let n = Int(try r.u32())
            guard n <= maxBlocksPerResponse else { throw .decoding("too many blocks in a response") }
            var blocks: [ConsensusBlock] = []
            for _ in 0..<n { blocks.append(try readBlock(&r, version: v, hasher: hasher)) }
            message = .blockResponse(blocks)
        case 6 where v >= 2:
            message = .commitProof(try readQC(&r, version: v))
        case 7 where v >= 2:
            message = .proofRequest(epoch: try r.u64())
        default:
            throw .decoding("unknown consensus message tag")
        }
        try r.finish()
        return message
    }

    static func write(_ qc: QuorumCertificate, _ w: inout BinaryWriter, version: UInt8) {
        qc.data.write(into: &w, version: version)
        w.u32(UInt32(qc.votes.count))
        for v in qc.votes {
            w.string(v.signer)
            w.lengthPrefixed(v.signature)
        }
    }

    static func readQC(_ r: inout BinaryReader, version: UInt8) throws(ChainError) -> QuorumCertificate {
        let data = try VoteData.read(&r, version: version)
        let n = Int(try r.u32())
        guard n <= maxSigners else { throw .decoding("too many signers") }
        var votes: [SignerSignature] = []
        for _ in 0..<n { votes.append(SignerSignature(signer: try r.string(), signature: try r.lengthPrefixed())) }
        return QuorumCertificate(data: data, votes: votes)
    }

    static func write(_ tc: TimeoutCertificate, _ w: inout BinaryWriter, version: UInt8) {
        if version >= 2 { w.u64(tc.epoch) }
        w.u64(tc.round)
        w.u32(UInt32(tc.entries.count))
        for e in tc.entries {
            w.string(e.signer)
            w.u64(e.highQCRound)
            w.lengthPrefixed(e.signature)
        }
    }

    static func writeOptional(_ tc: TimeoutCertificate?, _ w: inout BinaryWriter, version: UInt8) {
        guard let tc else { return w.u8(0) }
        w.u8(1)
        write(tc, &w, version: version)
    }

    static func readOptionalTC(_ r: inout BinaryReader, version: UInt8) throws(ChainError) -> TimeoutCertificate? {
        switch try r.u8() {
        case 0: return nil
        case 1: return try readTC(&r, version: version)
        default: throw .decoding("invalid optional flag")
        }
    }

    static func readTC(_ r: inout BinaryReader, version: UInt8) throws(ChainError) -> TimeoutCertificate {
        let epoch = version >= 2 ? try r.u64() : 0
        let round = try r.u64()
        let n = Int(try r.u32())
        guard n <= maxSigners else { throw .decoding("too many signers") }
        var entries: [TimeoutSignature] = []
        for _ in 0..<n {
            entries.append(TimeoutSignature(signer: try r.string(), highQCRound: try r.u64(), signature: try r.lengthPrefixed()))
        }
        return TimeoutCertificate(epoch: epoch, round: round, entries: entries)
    }

    static func write(_ b: ConsensusBlock, _ w: inout BinaryWriter, version: UInt8) {
        w.u64(b.round)
        w.u64(b.height)
        w.hash(b.parentID)
        write(b.qc, &w, version: version)
        w.lengthPrefixed(b.payload)
        w.string(b.author)
        w.i64(b.timestamp)
        w.lengthPrefixed(b.signature)
    }

    static func readBlock(_ r: inout BinaryReader, version: UInt8, hasher: ChainHasher) throws(ChainError) -> ConsensusBlock {
        ConsensusBlock(
            round: try r.u64(), height: try r.u64(), parentID: try r.hash(), qc: try readQC(&r, version: version),
            payload: try r.lengthPrefixed(), author: try r.string(), timestamp: try r.i64(), signature: try r.lengthPrefixed(),
            hasher: hasher)
    }
}

/// The state a replica must never lose: written to disk before any vote or timeout leaves it.
/// It belongs to one epoch: a replica of a later epoch starts from fresh safety data.
public struct SafetyData: Sendable, Hashable {
    /// The epoch these rounds are of.
    public var epoch: UInt64 { highQC.data.epoch }
    /// Highest round this replica voted or timed out in; it never votes again at or below it.
    public var highestVotedRound: UInt64
    /// Highest QC round it has built on when voting or timing out (its lock).
    public var highestQCRound: UInt64
    /// Its highest known QC (for liveness after a restart).
    public var highQC: QuorumCertificate
    /// Its highest known TC: the justification for being in a round entered by timeout.
    public var highTC: TimeoutCertificate?
    /// Highest round it proposed a block in; a restarted leader never proposes a second,
    /// different block in a round it already proposed in.
    public var lastProposedRound: UInt64 = 0

    /// Creates safety data.
    public init(highestVotedRound: UInt64, highestQCRound: UInt64, highQC: QuorumCertificate, highTC: TimeoutCertificate? = nil) {
        self.highestVotedRound = highestVotedRound
        self.highestQCRound = highestQCRound
        self.highQC = highQC
        self.highTC = highTC
    }

    /// Fresh safety data at genesis.
    public static func initial(genesisID: Hash256) -> SafetyData {
        initial(root: .genesis(genesisID))
    }

    /// Fresh safety data for the epoch that `root` (its virtual QC) starts.
    public static func initial(root: QuorumCertificate) -> SafetyData {
        SafetyData(highestVotedRound: 0, highestQCRound: 0, highQC: root)
    }

    /// The bytes to store: version 2 for epoch 0 (as before epochs existed), version 3 (whose
    /// certificates carry their epoch) otherwise.
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        let wire: UInt8 = epoch == 0 && (highTC?.epoch ?? 0) == 0 ? 1 : 2
        w.u8(wire == 1 ? 2 : 3)
        w.u64(highestVotedRound)
        w.u64(highestQCRound)
        ConsensusMessage.write(highQC, &w, version: wire)
        ConsensusMessage.writeOptional(highTC, &w, version: wire)
        w.u64(lastProposedRound)
        return w.bytes
    }

    /// Reads stored bytes (version 1, without the last proposed round; 2; or 3, with epochs).
    public static func decode(_ bytes: [UInt8]) throws(ChainError) -> SafetyData {
        var r = BinaryReader(bytes)
        let version = try r.u8()
        guard (1...3).contains(version) else { throw .decoding("unknown safety data version") }
        let wire: UInt8 = version == 3 ? 2 : 1
        var s = SafetyData(
            highestVotedRound: try r.u64(), highestQCRound: try r.u64(), highQC: try ConsensusMessage.readQC(&r, version: wire),
            highTC: try ConsensusMessage.readOptionalTC(&r, version: wire))
        if version >= 2 { s.lastProposedRound = try r.u64() }
        try r.finish()
        return s
    }
}
