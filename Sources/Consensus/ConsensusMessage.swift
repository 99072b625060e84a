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

    /// Most blocks in one response.
    public static let maxBlocksPerResponse = 256
    /// Most signatures in one certificate (bounds decoding work for hostile input).
    public static let maxSigners = 1024

    /// The wire bytes.
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        w.u8(1)  // version
        switch self {
        case .proposal(let b, let tc):
            w.u8(1)
            Self.write(b, &w)
            ConsensusMessage.writeOptional(tc, &w)
        case .vote(let v):
            w.u8(2)
            v.data.write(into: &w)
            w.string(v.signer)
            w.lengthPrefixed(v.signature)
        case .timeout(let t, let tc):
            w.u8(3)
            w.u64(t.round)
            Self.write(t.highQC, &w)
            w.string(t.signer)
            w.lengthPrefixed(t.signature)
            ConsensusMessage.writeOptional(tc, &w)
        case .blockRequest(let id, let count):
            w.u8(4)
            w.hash(id)
            w.u32(count)
        case .blockResponse(let blocks):
            w.u8(5)
            w.u32(UInt32(blocks.count))
            for b in blocks { Self.write(b, &w) }
        }
        return w.bytes
    }

    /// Decodes wire bytes; refuses unknown versions and tags, truncation, oversized counts and trailing bytes.
    public static func decode(_ bytes: [UInt8]) throws(ChainError) -> ConsensusMessage {
        var r = BinaryReader(bytes)
        guard try r.u8() == 1 else { throw .decoding("unknown consensus message version") }
        let message: ConsensusMessage
        switch try r.u8() {
        case 1:
            let b = try readBlock(&r)
            let tc = try readOptionalTC(&r)
            message = .proposal(b, tc: tc)
        case 2:
            message = .vote(Vote(data: try VoteData.read(&r), signer: try r.string(), signature: try r.lengthPrefixed()))
        case 3:
            let t = TimeoutMessage(
                round: try r.u64(), highQC: try readQC(&r), signer: try r.string(), signature: try r.lengthPrefixed())
            message = .timeout(t, tc: try readOptionalTC(&r))
        case 4:
            message = .blockRequest(id: try r.hash(), count: try r.u32())
        case 5:
            let n = Int(try r.u32())
            guard n <= maxBlocksPerResponse else { throw .decoding("too many blocks in a response") }
            var blocks: [ConsensusBlock] = []
            for _ in 0..<n { blocks.append(try readBlock(&r)) }
            message = .blockResponse(blocks)
        default:
            throw .decoding("unknown consensus message tag")
        }
        try r.finish()
        return message
    }

    static func write(_ qc: QuorumCertificate, _ w: inout BinaryWriter) {
        qc.data.write(into: &w)
        w.u32(UInt32(qc.votes.count))
        for v in qc.votes {
            w.string(v.signer)
            w.lengthPrefixed(v.signature)
        }
    }

    static func readQC(_ r: inout BinaryReader) throws(ChainError) -> QuorumCertificate {
        let data = try VoteData.read(&r)
        let n = Int(try r.u32())
        guard n <= maxSigners else { throw .decoding("too many signers") }
        var votes: [SignerSignature] = []
        for _ in 0..<n { votes.append(SignerSignature(signer: try r.string(), signature: try r.lengthPrefixed())) }
        return QuorumCertificate(data: data, votes: votes)
    }

    static func write(_ tc: TimeoutCertificate, _ w: inout BinaryWriter) {
        w.u64(tc.round)
        w.u32(UInt32(tc.entries.count))
        for e in tc.entries {
            w.string(e.signer)
            w.u64(e.highQCRound)
            w.lengthPrefixed(e.signature)
        }
    }

    static func writeOptional(_ tc: TimeoutCertificate?, _ w: inout BinaryWriter) {
        guard let tc else { return w.u8(0) }
        w.u8(1)
        write(tc, &w)
    }

    static func readOptionalTC(_ r: inout BinaryReader) throws(ChainError) -> TimeoutCertificate? {
        switch try r.u8() {
        case 0: return nil
        case 1: return try readTC(&r)
        default: throw .decoding("invalid optional flag")
        }
    }

    static func readTC(_ r: inout BinaryReader) throws(ChainError) -> TimeoutCertificate {
        let round = try r.u64()
        let n = Int(try r.u32())
        guard n <= maxSigners else { throw .decoding("too many signers") }
        var entries: [TimeoutSignature] = []
        for _ in 0..<n {
            entries.append(TimeoutSignature(signer: try r.string(), highQCRound: try r.u64(), signature: try r.lengthPrefixed()))
        }
        return TimeoutCertificate(round: round, entries: entries)
    }

    static func write(_ b: ConsensusBlock, _ w: inout BinaryWriter) {
        w.u64(b.round)
        w.u64(b.height)
        w.hash(b.parentID)
        write(b.qc, &w)
        w.lengthPrefixed(b.payload)
        w.string(b.author)
        w.i64(b.timestamp)
        w.lengthPrefixed(b.signature)
    }

    static func readBlock(_ r: inout BinaryReader) throws(ChainError) -> ConsensusBlock {
        ConsensusBlock(
            round: try r.u64(), height: try r.u64(), parentID: try r.hash(), qc: try readQC(&r), payload: try r.lengthPrefixed(),
            author: try r.string(), timestamp: try r.i64(), signature: try r.lengthPrefixed())
    }
}

/// The state a replica must never lose: written to disk before any vote or timeout leaves it.
public struct SafetyData: Sendable, Hashable {
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
        SafetyData(highestVotedRound: 0, highestQCRound: 0, highQC: .genesis(genesisID))
    }

    /// The bytes to store.
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        w.u8(2)
        w.u64(highestVotedRound)
        w.u64(highestQCRound)
        ConsensusMessage.write(highQC, &w)
        ConsensusMessage.writeOptional(highTC, &w)
        w.u64(lastProposedRound)
        return w.bytes
    }

    /// Reads stored bytes (version 1, without the last proposed round, or version 2).
    public static func decode(_ bytes: [UInt8]) throws(ChainError) -> SafetyData {
        var r = BinaryReader(bytes)
        let version = try r.u8()
        guard version == 1 || version == 2 else { throw .decoding("unknown safety data version") }
        var s = SafetyData(
            highestVotedRound: try r.u64(), highestQCRound: try r.u64(), highQC: try ConsensusMessage.readQC(&r),
            highTC: try ConsensusMessage.readOptionalTC(&r))
        if version == 2 { s.lastProposedRound = try r.u64() }
        try r.finish()
        return s
    }
}
