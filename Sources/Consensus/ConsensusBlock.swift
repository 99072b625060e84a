import ChainCore

/// A block of the consensus protocol: a round, the QC of its parent, an opaque payload (the
/// node's ordered transactions) and its author's signature over its id.
public struct ConsensusBlock: Sendable, Hashable {
    /// The round it was proposed in.
    public let round: UInt64
    /// Parent height + 1 (the genesis block has height 0).
    public let height: UInt64
    /// The parent block.
    public let parentID: Hash256
    /// The QC certifying the parent.
    public let qc: QuorumCertificate
    /// The payload, opaque to consensus.
    public let payload: [UInt8]
    /// The proposer.
    public let author: String
    /// Proposer clock, unix ms (checked by the node, not by consensus).
    public let timestamp: Int64
    /// The author's signature over `id`.
    public let signature: [UInt8]
    /// The chain's hash (SHA-256, or SM3 on an sm2 chain) over the fields above except the signature.
    public let id: Hash256

    /// Builds and signs a block.
    public init<C: ConsensusCrypto>(
        round: UInt64, parent qc: QuorumCertificate, payload: [UInt8], timestamp: Int64, crypto: C
    ) {
        self.round = round
        self.height = qc.height + 1
        self.parentID = qc.blockID
        self.qc = qc
        self.payload = payload
        self.author = crypto.selfID
        self.timestamp = timestamp
        self.id = Self.computeID(
            round: round, height: height, parentID: parentID, qc: qc, payload: payload, author: author, timestamp: timestamp,
            hasher: crypto.hasher)
        self.signature = crypto.sign(Self.signingBytes(id))
    }

    init(
        round: UInt64, height: UInt64, parentID: Hash256, qc: QuorumCertificate, payload: [UInt8], author: String,
        timestamp: Int64, signature: [UInt8], id: Hash256? = nil, hasher: ChainHasher
    ) {
        self.round = round
        self.height = height
        self.parentID = parentID
        self.qc = qc
        self.payload = payload
        self.author = author
        self.timestamp = timestamp
        self.signature = signature
        self.id =
            id
            ?? Self.computeID(
                round: round, height: height, parentID: parentID, qc: qc, payload: payload, author: author, timestamp: timestamp,
                hasher: hasher)
    }

    /// The genesis block of a chain: its id is the genesis document's hash, certified by the genesis QC.
    public static func genesis(_ genesisHash: Hash256) -> ConsensusBlock {
        root(epoch: 0, blockID: genesisHash, height: 0)
    }

    /// The stand-in for the block an epoch starts from (the last block of the previous epoch, or
    /// the genesis): round 0 of the epoch, certified by the epoch's virtual root QC, with that
    /// block's id and height.
    public static func root(epoch: UInt64, blockID: Hash256, height: UInt64) -> ConsensusBlock {
        ConsensusBlock(
            round: 0, height: height, parentID: .zero, qc: .root(epoch: epoch, blockID: blockID, height: height), payload: [],
            author: "", timestamp: 0, signature: [], id: blockID, hasher: .sha256)
    }

    /// True for the root of an epoch (the genesis block, or the stand-in for the block that ended
    /// the previous epoch); proposed blocks have rounds from 1.
    public var isGenesis: Bool { round == 0 }

    /// The epoch the block was proposed in (that of the QC it carries).
    public var epoch: UInt64 { qc.data.epoch }

    static func computeID(
        round: UInt64, height: UInt64, parentID: Hash256, qc: QuorumCertificate, payload: [UInt8], author: String,
        timestamp: Int64, hasher: ChainHasher
    ) -> Hash256 {
        var w = BinaryWriter()
        // Epoch 0 hashes as before epochs existed; later epochs under their own tag.
        w.string(qc.data.epoch == 0 ? "XIANGCHAIN-CBLOCK-V1" : "XIANGCHAIN-CBLOCK-V2")
        if qc.data.epoch != 0 { w.u64(qc.data.epoch) }
        w.u64(round)
        w.u64(height)
        w.hash(parentID)
        qc.data.writeFields(into: &w)
        w.hash(hasher.hash(payload))
        w.string(author)
        w.i64(timestamp)
        return hasher.hash(w.bytes)
    }

    /// The bytes an author signs for a block id.
    public static func signingBytes(_ id: Hash256) -> [UInt8] { Array("XIANGCHAIN-PROPOSAL-V1".utf8) + id.bytes }

    /// The vote data for this block.
    public var voteData: VoteData {
        VoteData(epoch: epoch, blockID: id, round: round, height: height, parentID: parentID, parentRound: qc.round)
    }
}

extension ConsensusBlock {
    /// The block's bytes, for storing it: an epoch-0 block as inside a version-1 message (as
    /// stored before epochs existed), a later one as `0xFF` then its version-2 layout.
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        if epoch == 0 {
            ConsensusMessage.write(self, &w, version: 1)
        } else {
            w.u8(Self.epochMarker)
            ConsensusMessage.write(self, &w, version: 2)
        }
        return w.bytes
    }

    /// A stored block's first byte when it carries an epoch (an epoch-0 block starts with the
    /// high byte of its round, which is 0 below 2^56).
    static let epochMarker: UInt8 = 0xFF

    /// Reads bytes made by `encoded`, for a chain hashing with `hasher`.
    public static func decode(_ bytes: [UInt8], hasher: ChainHasher) throws(ChainError) -> ConsensusBlock {
        var r = BinaryReader(bytes)
        var version: UInt8 = 1
        if bytes.first == epochMarker {
            _ = try r.u8()
            version = 2
        }
        let b = try ConsensusMessage.readBlock(&r, version: version, hasher: hasher)
        try r.finish()
        return b
    }
}
