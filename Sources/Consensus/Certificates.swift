import ChainCore

/// What a vote is about: a block and its parent, by id and round, in one epoch.
public struct VoteData: Sendable, Hashable {
    /// The epoch (validator set) the vote belongs to; signatures of one epoch never count in another.
    public let epoch: UInt64
    /// The voted block.
    public let blockID: Hash256
    /// Its round.
    public let round: UInt64
    /// Its height (parent height + 1).
    public let height: UInt64
    /// Its parent.
    public let parentID: Hash256
    /// The parent's round.
    public let parentRound: UInt64

    /// Creates vote data.
    public init(epoch: UInt64 = 0, blockID: Hash256, round: UInt64, height: UInt64, parentID: Hash256, parentRound: UInt64) {
        self.epoch = epoch
        self.blockID = blockID
        self.round = round
        self.height = height
        self.parentID = parentID
        self.parentRound = parentRound
    }

    /// The bytes a validator signs to vote: epoch 0 as before epochs existed (`XIANGCHAIN-VOTE-V1`),
    /// later epochs under their own tag with the epoch (`XIANGCHAIN-VOTE-V2 ‖ epoch`).
    public var signingBytes: [UInt8] {
        var w = BinaryWriter()
        w.string(epoch == 0 ? "XIANGCHAIN-VOTE-V1" : "XIANGCHAIN-VOTE-V2")
        if epoch != 0 { w.u64(epoch) }
        writeFields(into: &w)
        return w.bytes
    }

    /// The fields without the epoch (the layout of wire version 1 and of epoch-0 hashes).
    func writeFields(into w: inout BinaryWriter) {
        w.hash(blockID)
        w.u64(round)
        w.u64(height)
        w.hash(parentID)
        w.u64(parentRound)
    }

    func write(into w: inout BinaryWriter, version: UInt8) {
        if version >= 2 { w.u64(epoch) }
        writeFields(into: &w)
    }

    static func read(_ r: inout BinaryReader, version: UInt8) throws(ChainError) -> VoteData {
        let epoch = version >= 2 ? try r.u64() : 0
        return VoteData(
            epoch: epoch, blockID: try r.hash(), round: try r.u64(), height: try r.u64(), parentID: try r.hash(),
            parentRound: try r.u64())
    }
}

/// One validator's signature in a certificate.
public struct SignerSignature: Sendable, Hashable {
    /// The validator.
    public let signer: String
    /// Its signature.
    public let signature: [UInt8]

    /// Creates a record.
    public init(signer: String, signature: [UInt8]) {
        self.signer = signer
        self.signature = signature
    }
}

/// A vote for a block, sent to the leader of the next round.
public struct Vote: Sendable, Hashable {
    /// What is voted for.
    public let data: VoteData
    /// Who votes.
    public let signer: String
    /// Signature over `data.signingBytes`.
    public let signature: [UInt8]

    /// Creates a vote.
    public init(data: VoteData, signer: String, signature: [UInt8]) {
        self.data = data
        self.signer = signer
        self.signature = signature
    }
}

/// A quorum certificate: a quorum of votes on the same block. The genesis QC (round 0) has none.
public struct QuorumCertificate: Sendable, Hashable {
    /// The certified block.
    public let data: VoteData
    /// The votes, sorted by signer.
    public let votes: [SignerSignature]

    /// Creates a certificate.
    public init(data: VoteData, votes: [SignerSignature]) {
        self.data = data
        self.votes = votes.sorted { $0.signer < $1.signer }
    }

    /// Round of the certified block.
    public var round: UInt64 { data.round }
    /// Id of the certified block.
    public var blockID: Hash256 { data.blockID }
    /// Height of the certified block.
    public var height: UInt64 { data.height }
    /// Epoch of the certificate.
    public var epoch: UInt64 { data.epoch }

    /// The genesis QC, certifying the genesis block.
    public static func genesis(_ genesisID: Hash256) -> QuorumCertificate {
        root(epoch: 0, blockID: genesisID, height: 0)
    }

    /// The virtual QC an epoch starts from: round 0, unsigned, certifying the block that ended the
    /// previous epoch (the chain's genesis for epoch 0), as the genesis QC does for the chain.
    public static func root(epoch: UInt64, blockID: Hash256, height: UInt64) -> QuorumCertificate {
        QuorumCertificate(
            data: VoteData(epoch: epoch, blockID: blockID, round: 0, height: height, parentID: .zero, parentRound: 0), votes: [])
    }

    /// Checks the certificate: the genesis QC exactly, or a quorum of distinct validators'
    /// valid signatures (epoch 0).
    public func verify<C: ConsensusCrypto>(
        validators: ValidatorSet, crypto: C, genesisID: Hash256, minimumSigners: Int? = nil
    ) -> Bool {
        verify(validators: validators, crypto: crypto, root: .genesis(genesisID), minimumSigners: minimumSigners)
    }

    /// Checks the certificate in the epoch `root` starts: of that epoch, and either `root` itself
    /// or a quorum of distinct validators' valid signatures.
    public func verify<C: ConsensusCrypto>(
        validators: ValidatorSet, crypto: C, root: QuorumCertificate, minimumSigners: Int? = nil
    ) -> Bool {
        guard data.epoch == root.data.epoch else { return false }
        if data.round == 0 { return self == root }
        let needed = minimumSigners ?? validators.quorum
        var seen = Set<String>()
        let message = data.signingBytes
        for v in votes {
            guard validators.contains(v.signer), seen.insert(v.signer).inserted else { return false }
            guard crypto.verify(signer: v.signer, message: message, signature: v.signature) else { return false }
        }
        return seen.count >= needed
    }
}

/// A replica's timeout for a round, carrying its highest QC.
public struct TimeoutMessage: Sendable, Hashable {
    /// The round timed out.
    public let round: UInt64
    /// The sender's highest QC.
    public let highQC: QuorumCertificate
    /// The sender.
    public let signer: String
    /// Signature over `TimeoutMessage.signingBytes(round, highQC.round)`.
    public let signature: [UInt8]

    /// Creates a timeout.
    public init(round: UInt64, highQC: QuorumCertificate, signer: String, signature: [UInt8]) {
        self.round = round
        self.highQC = highQC
        self.signer = signer
        self.signature = signature
    }

    /// Its epoch: that of its highest QC (a timeout is only valid with a QC of its own epoch).
    public var epoch: UInt64 { highQC.data.epoch }

    /// The bytes signed for a timeout of `round` with a highest QC of `highQCRound`: epoch 0 as
    /// before epochs existed, later epochs under their own tag with the epoch.
    public static func signingBytes(epoch: UInt64 = 0, round: UInt64, highQCRound: UInt64) -> [UInt8] {
        var w = BinaryWriter()
        w.string(epoch == 0 ? "XIANGCHAIN-TIMEOUT-V1" : "XIANGCHAIN-TIMEOUT-V2")
        if epoch != 0 { w.u64(epoch) }
        w.u64(round)
        w.u64(highQCRound)
        return w.bytes
    }
}

/// One signer's part of a timeout certificate.
public struct TimeoutSignature: Sendable, Hashable {
    /// The validator.
    public let signer: String
    /// The round of its highest QC when it timed out.
    public let highQCRound: UInt64
    /// Its timeout signature.
    public let signature: [UInt8]

    /// Creates a record.
    public init(signer: String, highQCRound: UInt64, signature: [UInt8]) {
        self.signer = signer
        self.highQCRound = highQCRound
        self.signature = signature
    }
}

/// A timeout certificate: a quorum of timeouts for one round.
public struct TimeoutCertificate: Sendable, Hashable {
    /// The epoch of the timeouts.
    public let epoch: UInt64
    /// The round that timed out.
    public let round: UInt64
    /// The timeouts, sorted by signer.
    public let entries: [TimeoutSignature]

    /// Creates a certificate.
    public init(epoch: UInt64 = 0, round: UInt64, entries: [TimeoutSignature]) {
        self.epoch = epoch
        self.round = round
        self.entries = entries.sorted { $0.signer < $1.signer }
    }

    /// The highest QC round among the signers: a proposal after this TC must extend a QC at least this high.
    public var highQCRound: UInt64 { entries.map(\.highQCRound).max() ?? 0 }

    /// Checks a quorum of distinct validators' valid timeout signatures (and, with `epoch`, that
    /// it is of that epoch).
    public func verify<C: ConsensusCrypto>(
        validators: ValidatorSet, crypto: C, epoch: UInt64? = nil, minimumSigners: Int? = nil
    ) -> Bool {
        if let epoch, epoch != self.epoch { return false }
        var seen = Set<String>()
        for e in entries {
            guard validators.contains(e.signer), seen.insert(e.signer).inserted else { return false }
            let message = TimeoutMessage.signingBytes(epoch: self.epoch, round: round, highQCRound: e.highQCRound)
            guard crypto.verify(signer: e.signer, message: message, signature: e.signature) else { return false }
        }
        return seen.count >= (minimumSigners ?? validators.quorum)
    }
}
