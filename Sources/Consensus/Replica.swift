import ChainCore

/// Inputs to a replica.
public enum ConsensusEvent: Sendable {
    /// Begin (after creation or restart): arms the round timer, proposes if leader.
    case start
    /// A message from a peer (already decoded; signatures not yet checked).
    case message(from: String, ConsensusMessage)
    /// The timer armed for `round` of `epoch` fired.
    case timer(round: UInt64, epoch: UInt64 = 0)
    /// The driver has something to propose now (its mempool was empty): a leader that deferred
    /// its empty proposal proposes (or, when the block it extends is recent, batches:
    /// `ConsensusConfig.minBlockIntervalMs`).
    case payloadReady
    /// The delay armed by `scheduleProposal` for `round` of `epoch` passed: a leader that still
    /// defers proposes what it has (an empty block, or the batched transactions).
    case proposalDue(round: UInt64, epoch: UInt64 = 0)
}

/// Outputs of a replica, to be carried out in order by its driver.
public enum ConsensusAction: Sendable, Hashable {
    /// Send to one validator.
    case send(to: String, ConsensusMessage)
    /// Send to every other validator.
    case broadcast(ConsensusMessage)
    /// Make the safety data durable. Actions after it must not run until it is.
    case persist(SafetyData)
    /// Keep this (valid, not yet committed) block durably: a block may be certified while every
    /// replica restarts, and then only the stored copies can complete it. Give the stored blocks
    /// back on restart; drop them once their height is committed.
    case storeBlock(ConsensusBlock)
    /// These blocks are final, in height order; `certificate` is the QC whose 2-chain commits the last one.
    case commit([ConsensusBlock], certificate: QuorumCertificate)
    /// Call back with `.timer(round:epoch:)` after `afterMs` milliseconds.
    case scheduleTimer(round: UInt64, afterMs: Int, epoch: UInt64 = 0)
    /// This leader defers its proposal: call back with `.proposalDue(round:epoch:)` after
    /// `afterMs` milliseconds, and, while it defers an empty one (`Replica.awaitsPayload`), with
    /// `.payloadReady` as soon as there is something to propose.
    case scheduleProposal(round: UInt64, afterMs: Int, epoch: UInt64 = 0)
}

/// Tunables of the protocol.
public struct ConsensusConfig: Sendable {
    /// Round timeout before back-off, milliseconds.
    public var baseTimeoutMs: Int = 1000
    /// Back-off doubles per consecutive timed-out round, up to 2^maxBackoffExponent × base.
    public var maxBackoffExponent: Int = 3
    /// Blocks asked for per fetch.
    public var fetchBatch: UInt32 = 64
    /// How far above its current round a replica keeps votes and timeouts (one per signer and
    /// round); anything further ahead is dropped. A replica that is further behind catches up
    /// through the QCs and TCs that proposals and timeouts carry, not through these.
    public var futureRounds: UInt64 = 16
    /// Committed blocks kept in memory to answer peers' fetches (a node serves older ones from its store).
    public var keptCommittedBlocks = 256
    /// How long a leader with nothing to propose waits for something (`payloadReady`) before it
    /// proposes an empty block, ms; 0 proposes at once. It never waits while the block it extends
    /// or that block's parent has a payload (their commits travel in the next proposals), and at
    /// most half the round timeout.
    public var emptyProposalDelayMs = 0
    /// Batching under load: a leader whose payload is neither empty nor full (`PayloadHooks.isFull`)
    /// proposes no sooner than this long after the timestamp of the block it extends, ms (waiting
    /// at most this long, and at most half the round timeout); 0 proposes at once. Every block
    /// costs each validator the same signatures, votes and durable writes whatever it holds, so
    /// when transactions arrive faster than rounds turn, fewer and larger blocks leave the CPU to
    /// the transactions. A transaction after a quiet spell is not delayed: its block extends one
    /// older than this (a client that sends again right after a commit extends a recent one).
    public var minBlockIntervalMs = 0
    /// Leader reputation: how many certificates back (the QC just formed and those its chain
    /// carries) a leader is chosen from; 0 keeps plain round-robin. See `Replica.leader(of:)`.
    public var reputationWindow = 5
    /// A validator not heard from (no proposal, vote, timeout, or signature in a QC) for this
    /// many rounds counts as down (for the node's status).
    public var silentRounds: UInt64 = 12

    /// Defaults.
    public init() {}
}

/// Deliberate protocol bugs, only for the simulation to prove that it catches them. A real node
/// never sets any of these.
public struct InjectedFaults: Sendable {
    /// Vote even when this round was already voted or timed out in.
    public var voteTwiceInARound = false
    /// Send votes before persisting the safety data that records them.
    public var sendBeforePersist = false
    /// Commit the parent of any certified block, without the consecutive-round rule.
    public var commitWithoutConsecutiveRounds = false
    /// Accept certificates with this many signers instead of a quorum.
    public var acceptCertificatesWith: Int?
    /// Vote for a TC-justified proposal even when its QC is older than the TC's highest QC.
    public var ignoreTCHighQCRule = false
    /// The broken epoch switch: after it, keep counting the previous epoch's validators' votes
    /// and timeouts (as if they were still validators).
    public var countRetiredValidators = false
    /// The broken epoch switch: go on executing the blocks committed after the one that ended
    /// the epoch (instead of dropping them with the rest of the action list).
    public var executePastEpochEnd = false
    /// The broken vote rule: vote for any valid proposal of a higher round, without "extends the
    /// previous round's QC, or is justified by a TC whose highest QC it does not go below".
    public var voteWithoutJustification = false
    /// The broken timeout rule: time out without its checks (`highQC.round ≥ lock`,
    /// `r ≥ highestVotedRound`) and without recording the round as voted, so that the replica
    /// still votes in a round after timing out in it.
    public var timeoutWithoutRecording = false

    /// No faults.
    public init() {}
}

/// How a replica gets and checks payloads. The node batches its mempool here; the simulation
/// makes deterministic payloads.
public struct PayloadHooks: Sendable {
    /// The payload for a new block of `round` extending `parent`.
    public var make: @Sendable (_ round: UInt64, _ parent: Hash256) -> [UInt8]
    /// Whether a proposed block's payload is acceptable (a replica does not vote otherwise).
    public var validate: @Sendable (ConsensusBlock) -> Bool
    /// Proposer clock, unix ms.
    public var now: @Sendable () -> Int64
    /// Whether a payload has nothing in it (such proposals can be deferred, see
    /// `ConsensusConfig.emptyProposalDelayMs`).
    public var isEmpty: @Sendable ([UInt8]) -> Bool
    /// Whether a payload is as large as a block should be (it is proposed at once, see
    /// `ConsensusConfig.minBlockIntervalMs`).
    public var isFull: @Sendable ([UInt8]) -> Bool
    /// Told of each uncommitted block as the replica takes it into its tree, before `make` or
    /// `validate` can be asked about a block extending it (the `.storeBlock` action comes only
    /// after the event): a driver that keeps what uncommitted blocks carry keeps it here.
    public var inserted: @Sendable (ConsensusBlock) -> Void

    /// Creates hooks.
    public init(
        make: @escaping @Sendable (UInt64, Hash256) -> [UInt8],
        validate: @escaping @Sendable (ConsensusBlock) -> Bool = { _ in true },
        now: @escaping @Sendable () -> Int64,
        isEmpty: @escaping @Sendable ([UInt8]) -> Bool = { _ in false },
        isFull: @escaping @Sendable ([UInt8]) -> Bool = { _ in false },
        inserted: @escaping @Sendable (ConsensusBlock) -> Void = { _ in }
    ) {
        self.make = make
        self.validate = validate
        self.now = now
        self.isEmpty = isEmpty
        self.isFull = isFull
        self.inserted = inserted
    }
}

/// One replica of the 2-chain HotStuff (Jolteon / DiemBFT v4) protocol for one epoch, as a
/// deterministic state machine: `handle` takes an event and returns the actions to carry out, in
/// order. No clocks, sockets or disks: time, payloads and crypto are injected.
///
/// An epoch has a validator set and a root: the block it starts from (the genesis for epoch 0,
/// else the block that ended the previous epoch), certified by a virtual QC of round 0. A replica
/// whose id is not in the set follows passively: it verifies and commits, never votes, times out
/// or proposes. `EpochManager` moves from one epoch's replica to the next.
public struct Replica<Crypto: ConsensusCrypto> {
    /// The validators.
    public let validators: ValidatorSet
    /// The epoch.
    public let epoch: UInt64
    /// The virtual QC of the block the epoch starts from.
    public let rootQC: QuorumCertificate
    let crypto: Crypto
    let config: ConsensusConfig
    let hooks: PayloadHooks
    /// Bugs to inject (simulation only).
    public var faults = InjectedFaults()
    /// Validators of the previous epoch, still counted with `faults.countRetiredValidators`.
    public var retiredValidators: ValidatorSet?
    /// Whether this replica votes (its id is in the set).
    public let isVoter: Bool

    /// Durable safety state.
    public private(set) var safety: SafetyData
    /// Current round.
    public private(set) var round: UInt64
    /// Highest QC known.
    public private(set) var highQC: QuorumCertificate
    /// Highest TC known.
    public private(set) var highTC: TimeoutCertificate?
    /// Last committed block.
    public private(set) var committed: ConsensusBlock
    /// Consecutive rounds entered by timeout (drives back-off).
    public private(set) var consecutiveTimeouts = 0
    /// Leaders chosen by reputation for the coming rounds (see `leader(of:)`).
    var elected: [UInt64: String] = [:]
    /// The highest round each validator was last heard in: an authentic proposal, vote or
    /// timeout of its own, or its signature in a QC.
    public private(set) var lastHeard: [String: UInt64] = [:]

    // Everything a peer can make a replica keep is bounded (see `Footprint`): votes and timeouts
    // to a window of rounds and one per signer and round, proposals to a few per round, fetches
    // to blocks that a QC or a proposal refers to.
    var blocks: [Hash256: ConsensusBlock] = [:]
    /// Votes for blocks of round r (this replica leads r+1): each signer's first vote only.
    var votes: [UInt64: [String: Vote]] = [:]
    /// Timeouts of round r: each signer's first only, without its QC (already taken in).
    var timeouts: [UInt64: [String: TimeoutSignature]] = [:]
    var lastProposedRound: UInt64 = 0
    /// The round whose proposal this leader defers, the TC that justifies it, and why: for want
    /// of a payload (`payloadReady` ends it) or to batch (only `proposalDue` ends it).
    var deferred: (round: UInt64, tc: TimeoutCertificate?, batching: Bool)?
    /// The round whose proposal waits for blocks of its parent's chain this leader does not hold
    /// (`propose`).
    var awaitingChain: UInt64?
    /// Whether this replica defers its proposal of the current round for want of a payload: only
    /// then does a `.payloadReady` do anything (the driver may skip sending it otherwise).
    public var awaitsPayload: Bool { deferred.map { $0.round == round && !$0.batching } ?? false }
    var myTimeout: TimeoutMessage?
    /// Proposals of the current round whose parent is being fetched.
    var pendingProposals: [(block: ConsensusBlock, tc: TimeoutCertificate?)] = []
    /// Proposals taken into the block tree, per recent round (an equivocating leader cannot fill it).
    var proposalsAccepted: [UInt64: Int] = [:]
    var pendingCommits: [QuorumCertificate] = []
    /// Fetches in flight, by block and peer asked; cleared each round so lost requests are retried.
    var requested: Set<[UInt8]> = []
    /// Blocks asked for (a response must start with one of them, or a known block, and go down
    /// the parent links); kept until they arrive.
    var wanted: [Hash256] = []
    var out: [ConsensusAction] = []

    static var maxPendingProposals: Int { 4 }
    static var maxProposalsPerRound: Int { 2 }
    static var maxPendingCommits: Int { 16 }
    static var maxRequested: Int { 256 }
    static var maxWanted: Int { 64 }

    /// This replica's id.
    public var id: String { crypto.selfID }

    /// A replica at genesis (epoch 0), or restarted from its persisted safety data and last committed block.
    public init(
        validators: ValidatorSet, crypto: Crypto, genesisID: Hash256, config: ConsensusConfig = ConsensusConfig(),
        hooks: PayloadHooks, safety: SafetyData? = nil, committed: ConsensusBlock? = nil, storedBlocks: [ConsensusBlock] = []
    ) {
        self.init(
            epoch: 0, validators: validators, crypto: crypto, rootID: genesisID, rootHeight: 0, config: config, hooks: hooks,
            safety: safety, committed: committed, storedBlocks: storedBlocks)
    }

    /// A replica of `epoch`, which starts from block `rootID` at `rootHeight`; restarted from its
    /// persisted safety data and last committed block when given. Safety data of another epoch,
    /// a committed block that is not of this epoch (the root itself, of the previous one) and
    /// stored blocks of other epochs are set aside: the epoch then starts fresh from its root.
    public init(
        epoch: UInt64, validators: ValidatorSet, crypto: Crypto, rootID: Hash256, rootHeight: UInt64,
        config: ConsensusConfig = ConsensusConfig(), hooks: PayloadHooks, safety: SafetyData? = nil,
        committed: ConsensusBlock? = nil, storedBlocks: [ConsensusBlock] = []
    ) {
        self.validators = validators
        self.epoch = epoch
        self.crypto = crypto
        self.config = config
        self.hooks = hooks
        let rootQC = QuorumCertificate.root(epoch: epoch, blockID: rootID, height: rootHeight)
        self.rootQC = rootQC
        self.isVoter = validators.contains(crypto.selfID)
        let s = safety.flatMap { $0.epoch == epoch ? $0 : nil } ?? .initial(root: rootQC)
        self.safety = s
        self.highQC = s.highQC
        self.highTC = s.highTC
        let root = ConsensusBlock.root(epoch: epoch, blockID: rootID, height: rootHeight)
        let c = committed.flatMap { $0.epoch == epoch && $0.height > rootHeight && !$0.isGenesis ? $0 : nil } ?? root
        self.committed = c
        self.blocks[c.id] = c
        for b in storedBlocks where b.epoch == epoch && b.height > c.height { self.blocks[b.id] = b }
        self.round = max(s.highQC.round + 1, s.highestVotedRound, (s.highTC?.round ?? 0) + 1)
        self.lastProposedRound = max(s.highestVotedRound, s.lastProposedRound)
        for v in validators.ids { lastHeard[v] = round }
    }

    /// The leader of round `r`. Round-robin (`ValidatorSet.leader(of:)`), except for rounds that
    /// a leader was elected for by reputation (in the manner of DiemBFT v4's leader reputation):
    /// when this replica takes in a QC of round r−2 (before it is past round r), it picks the
    /// leader of round r from the validators that signed the last `reputationWindow`
    /// certificates of that QC's chain (the QC, the QC its block carries, and so on back),
    /// round-robin among them. A crashed validator signs none, so it stops being picked once it
    /// has been out of a window; one that comes back signs again and is picked again. At most
    /// one block is certified per round and its chain is hash-linked, so every replica that
    /// elects for round r computes the same leader; a round two after a round without a QC (a
    /// crashed or outvoted leader), or whose history is not at hand, falls back to round-robin,
    /// so liveness never depends on the election. Safety does not depend on who leads
    /// (`docs/consensus.md`).
    public func leader(of r: UInt64) -> String { elected[r] ?? validators.leader(of: r) }

    /// Validators (other than this one) not heard from in the last `silentRounds` rounds.
    public var silentValidators: [String] {
        guard round > config.silentRounds else { return [] }
        return validators.ids.filter { v in
            let last = lastHeard[v] ?? 0
            return v != id && last < round && round - last > config.silentRounds
        }
    }

    /// Notes a sign of life of `v` in round `r`. A round beyond those this replica would take
    /// messages for is not one (a Byzantine validator signs any round it likes: a timeout for
    /// round 2⁶⁴−1 must neither mark it live for ever nor overflow the arithmetic above).
    mutating func heard(_ v: String, round r: UInt64) {
        guard validators.contains(v), r > (lastHeard[v] ?? 0), r <= round &+ config.futureRounds else { return }
        lastHeard[v] = r
    }

    /// Chooses the leader of round `qc.round + 2` (see `leader(of:)`).
    mutating func elect(after qc: QuorumCertificate) {
        let target = qc.round + 2
        guard config.reputationWindow > 0, elected[target] == nil else { return }
        var active = Set<String>()
        var cursor = qc
        for _ in 0..<config.reputationWindow {
            // Too close to the epoch's start, or a block not at hand: round-robin.
            guard cursor.round > 0, let b = blocks[cursor.blockID] else { return }
            for s in cursor.votes { active.insert(s.signer) }
            cursor = b.qc
        }
        let order = validators.ids.filter { active.contains($0) }
        guard !order.isEmpty else { return }
        elected[target] = order[Int(target % UInt64(order.count))]
    }

    /// Processes one event and returns the actions to carry out, in order.
    public mutating func handle(_ event: ConsensusEvent) -> [ConsensusAction] {
        out = []
        switch event {
        case .start:
            guard isVoter else { break }
            scheduleTimer()
            if leader(of: round) == id, highQC.round + 1 == round { propose(tc: nil) }
        case .timer(let r, let e):
            if e == epoch, r == round, isVoter { localTimeout() }
        case .payloadReady:
            // The payload that arrived may still be batched (`minBlockIntervalMs`).
            if let d = deferred, d.round == round, !d.batching { propose(tc: d.tc, force: false) }
        case .proposalDue(let r, let e):
            if e == epoch, let d = deferred, d.round == r, r == round { propose(tc: d.tc, force: true) }
        case .message(let from, let message):
            switch message {
            // Anyone may fetch and be answered (the transport authenticates peers), and a QC
            // proves itself: followers that are not validators use these.
            case .blockRequest(let blockID, let count): onBlockRequest(blockID, count: count, from: from)
            case .blockResponse(let list): onBlockResponse(list, from: from)
            case .commitProof(let qc): if valid(qc) { onQC(qc, from: from) }
            case .proofRequest: break
            case .proposal(let block, let tc): if isSigner(from) { onProposal(block, tc: tc, from: from) }
            case .vote(let vote): if isSigner(from) { onVote(vote) }
            case .timeout(let t, let tc): if isSigner(from) { onTimeout(t, tc: tc) }
            }
        }
        // A leader that waited for its parent's chain proposes once it holds it.
        if awaitingChain == round, leader(of: round) == id, lastProposedRound < round,
            highQC.height <= committed.height || missingAncestor(from: highQC.blockID) == nil
        {
            propose(tc: enteredByTC)
        }
        return out
    }

    /// A block this replica knows (for serving sync and for tests).
    public func block(_ id: Hash256) -> ConsensusBlock? { blocks[id] }

    /// How much this replica holds in memory, per collection (for tests and the node's status).
    public var footprint: Footprint {
        Footprint(
            blocks: blocks.count, votes: votes.values.reduce(0) { $0 + $1.count },
            timeouts: timeouts.values.reduce(0) { $0 + $1.count }, pendingProposals: pendingProposals.count,
            pendingCommits: pendingCommits.count, fetches: requested.count + wanted.count)
    }

    // MARK: verification

    var quorumNeeded: Int { faults.acceptCertificatesWith ?? validators.quorum }

    /// Whose signatures count: the validators (and, with the injected fault, the previous epoch's).
    var signers: ValidatorSet {
        guard faults.countRetiredValidators, let retired = retiredValidators else { return validators }
        let extra = retired.ids.filter { !validators.contains($0) }
        return (try? ValidatorSet(ids: validators.ids + extra, keys: validators.keys.merging(retired.keys) { a, _ in a }))
            ?? validators
    }

    func isSigner(_ id: String) -> Bool {
        validators.contains(id) || (faults.countRetiredValidators && retiredValidators?.contains(id) == true)
    }

    func valid(_ qc: QuorumCertificate) -> Bool {
        qc.verify(validators: signers, crypto: crypto, root: rootQC, minimumSigners: quorumNeeded)
    }

    func valid(_ tc: TimeoutCertificate) -> Bool {
        tc.verify(validators: signers, crypto: crypto, epoch: epoch, minimumSigners: quorumNeeded)
    }

    /// A well-formed block signed by a validator, on a valid QC. Whether its author leads its
    /// round is checked for proposals only (a fetched block is hash-linked to a QC, and its round
    /// may have had an elected leader this replica does not know of).
    func validBlock(_ b: ConsensusBlock) -> Bool {
        guard !b.isGenesis, validators.contains(b.author), b.round > b.qc.round, b.parentID == b.qc.blockID,
            b.height == b.qc.height + 1,
            crypto.verify(signer: b.author, message: ConsensusBlock.signingBytes(b.id), signature: b.signature)
        else { return false }
        return valid(b.qc)
    }

    // MARK: proposals and votes

    mutating func onProposal(_ block: ConsensusBlock, tc: TimeoutCertificate?, from: String) {
        guard validBlock(block) else { return }
        if let tc {
            guard tc.round + 1 == block.round, valid(tc) else { return }
        }
        onQC(block.qc, from: from)
        if let tc { onTC(tc) }
        // Its certificates are taken in whoever proposed (they prove themselves); the block only
        // from the round's leader, as this replica knows it.
        guard block.author == leader(of: block.round) else { return }
        heard(block.author, round: block.round)
        if blocks[block.id] == nil {
            // Only recent rounds' proposals, a few per round: a leader cannot fill memory with
            // equivocations or with blocks for rounds nobody has reached.
            guard block.round <= round, block.round + 2 >= round,
                proposalsAccepted[block.round, default: 0] < Self.maxProposalsPerRound
            else { return }
            guard blocks[block.parentID] != nil else {
                guard block.round == round, pendingProposals.count < Self.maxPendingProposals else { return }
                pendingProposals.append((block, tc))
                fetch(block.parentID, from: from)
                return
            }
            proposalsAccepted[block.round, default: 0] += 1
            insert(block)
        }
        guard block.round == round, hooks.validate(block) else { return }
        voteIfSafe(block, tc: tc)
    }

    mutating func voteIfSafe(_ b: ConsensusBlock, tc: TimeoutCertificate?) {
        guard isVoter else { return }
        let r = b.round
        guard r > safety.highestVotedRound || faults.voteTwiceInARound, r > b.qc.round else { return }
        let extendsQC = r == b.qc.round + 1
        let justifiedByTC =
            tc.map { $0.round + 1 == r && (b.qc.round >= $0.highQCRound || faults.ignoreTCHighQCRule) } ?? false
        guard extendsQC || justifiedByTC || faults.voteWithoutJustification else { return }
        safety.highestVotedRound = max(safety.highestVotedRound, r)
        safety.highestQCRound = max(safety.highestQCRound, b.qc.round)
        safety.highQC = highQC
        safety.highTC = highTC
        let vote = Vote(data: b.voteData, signer: id, signature: crypto.sign(b.voteData.signingBytes))
        let next = leader(of: r + 1)
        if faults.sendBeforePersist {
            deliverVote(vote, to: next)
            out.append(.persist(safety))
        } else {
            out.append(.persist(safety))
            deliverVote(vote, to: next)
        }
    }

    mutating func deliverVote(_ vote: Vote, to leader: String) {
        if leader == id {
            onVote(vote)
        } else {
            out.append(.send(to: leader, .vote(vote)))
        }
    }

    /// Takes a vote: any replica a vote is sent to may form the QC (a QC proves itself, whoever
    /// assembles it), so a vote that arrives before this replica learns that it leads the next
    /// round (an elected leader) is not lost.
    mutating func onVote(_ v: Vote) {
        let r = v.data.round
        guard v.data.epoch == epoch, r + 1 >= round, r <= round + config.futureRounds,
            votes[r]?[v.signer] == nil, isSigner(v.signer),
            crypto.verify(signer: v.signer, message: v.data.signingBytes, signature: v.signature)
        else { return }
        heard(v.signer, round: r)
        votes[r, default: [:]][v.signer] = v
        let same = votes[r, default: [:]].values.filter { $0.data == v.data }
        if same.count == validators.quorum {
            onQC(
                QuorumCertificate(data: v.data, votes: same.map { SignerSignature(signer: $0.signer, signature: $0.signature) }),
                from: nil)
        }
    }

    // MARK: certificates and rounds

    mutating func onQC(_ qc: QuorumCertificate, from: String?) {
        let raised = qc.round > highQC.round
        if raised {
            highQC = qc
            for s in qc.votes { heard(s.signer, round: qc.round) }
        }
        tryCommit(qc, from: from)
        // Elect the leader of the round after next, before entering the next (whose leader
        // proposes and votes at once, and that vote goes to the leader after next).
        if qc.round > 0, qc.round + 2 >= round { elect(after: qc) }
        advance(to: qc.round + 1, tc: nil)
        // A leader that could not propose yet (its highest QC was below its TC's) may now.
        if raised, leader(of: round) == id, lastProposedRound < round { propose(tc: enteredByTC) }
    }

    mutating func onTC(_ tc: TimeoutCertificate) {
        if tc.round > (highTC?.round ?? 0) { highTC = tc }
        advance(to: tc.round + 1, tc: tc)
    }

    mutating func advance(to r: UInt64, tc: TimeoutCertificate?) {
        guard r > round else { return }
        round = r
        consecutiveTimeouts = tc == nil ? 0 : consecutiveTimeouts + 1
        myTimeout = nil
        votes = votes.filter { $0.key + 2 >= r }
        requested.removeAll()
        timeouts = timeouts.filter { $0.key + 1 >= r }
        pendingProposals.removeAll { $0.block.round < r }
        proposalsAccepted = proposalsAccepted.filter { $0.key + 2 >= r }
        elected = elected.filter { $0.key >= r }
        scheduleTimer()
        if leader(of: r) == id { propose(tc: tc) }
    }

    mutating func propose(tc: TimeoutCertificate?, force: Bool = false) {
        let r = round
        guard lastProposedRound < r else { return }
        let justification: TimeoutCertificate?
        if highQC.round + 1 == r {
            justification = nil
        } else if let t = tc ?? highTC, t.round + 1 == r, highQC.round >= t.highQCRound {
            // (Below the TC's highest QC round, correct replicas would refuse the block: wait
            // for that QC, which a timeout or proposal brings.)
            justification = t
        } else {
            return
        }
        // The payload must not repeat what the parent and its uncommitted ancestors carry, so
        // the leader must hold them: a QC formed from votes that outran the proposal certifies a
        // block this replica may not have yet. It asks signers of the QC (f+1 of them: one is
        // correct and holds it) and proposes when the chain is complete (end of `handle`); the
        // round timer bounds the wait.
        if highQC.height > committed.height, let missing = missingAncestor(from: highQC.blockID) {
            awaitingChain = r
            // A deferral of this round is dropped: its timer may fire while the chain is missing,
            // and the proposal made when the chain arrives must be able to defer afresh.
            if deferred?.round == r { deferred = nil }
            let holders = highQC.votes.map(\.signer).filter { $0 != id }
            for holder in holders.prefix(validators.count - validators.quorum + 1) {
                fetch(missing, from: holder, count: Self.chainFetchBatch)
            }
            return
        }
        awaitingChain = nil
        let payload = hooks.make(r, highQC.blockID)
        let delay = min(config.emptyProposalDelayMs, config.baseTimeoutMs / 2)
        if !force, delay > 0, hooks.isEmpty(payload), !carriesPayloadCommit {
            // Nothing to order, and no payload's commit waits on this proposal: wait a little for
            // a transaction (the driver owns time and the mempool).
            if deferred?.round != r {
                deferred = (r, justification, false)
                out.append(.scheduleProposal(round: r, afterMs: delay, epoch: epoch))
            }
            return
        }
        if !force, let wait = batchingWait(payload) {
            // Transactions, but not a block's worth, and the parent is recent: wait for more.
            if deferred.map({ $0.round != r || !$0.batching }) ?? true {
                deferred = (r, justification, true)
                out.append(.scheduleProposal(round: r, afterMs: wait, epoch: epoch))
            }
            return
        }
        deferred = nil
        lastProposedRound = r
        let block = ConsensusBlock(round: r, parent: highQC, payload: payload, timestamp: hooks.now(), crypto: crypto)
        // Durable before the proposal leaves: after a crash here, this leader must not propose
        // another block in round r.
        safety.lastProposedRound = r
        out.append(.persist(safety))
        out.append(.broadcast(.proposal(block, tc: justification)))
        onProposal(block, tc: justification, from: id)
    }

    /// How long a leader holding `payload` waits before proposing it (`minBlockIntervalMs`): until
    /// that long after the timestamp of the block it extends, never longer than that interval or
    /// half the round timeout; nil to propose at once (batching off, an empty or full payload, a
    /// parent old enough, or none held).
    func batchingWait(_ payload: [UInt8]) -> Int? {
        let interval = Int64(min(config.minBlockIntervalMs, config.baseTimeoutMs / 2))
        guard interval > 0, !hooks.isEmpty(payload), !hooks.isFull(payload), let parent = blocks[highQC.blockID],
            !parent.isGenesis
        else { return nil }
        let wait = min(interval, parent.timestamp + interval - hooks.now())
        return wait > 0 ? Int(wait) : nil
    }

    /// The first block of `id`'s chain down to the committed block that this replica does not
    /// hold (`id` itself, or an ancestor a fetch left out); nil when it holds them all.
    func missingAncestor(from id: Hash256) -> Hash256? {
        var cursor = id
        while let b = blocks[cursor] {
            if b.height <= committed.height { return nil }
            cursor = b.parentID
        }
        return cursor
    }

    /// Blocks asked for when a leader lacks its parent's chain: usually one or two are missing
    /// (a response holds this many, from the one asked for down; a longer gap is walked on).
    static var chainFetchBatch: UInt32 { 4 }

    /// Whether the block the next proposal extends, or its parent, has a payload: the next
    /// proposals carry the QCs that commit them, so they must not wait.
    var carriesPayloadCommit: Bool {
        var cursor = blocks[highQC.blockID]
        for _ in 0..<2 {
            guard let b = cursor, !b.isGenesis else { return false }
            if !hooks.isEmpty(b.payload) { return true }
            cursor = blocks[b.parentID]
        }
        return false
    }

    /// The round timer. It doubles per consecutive round entered by timeout, but only past 2f of
    /// them: f crashed validators cost up to 2f timed-out rounds in a row under round-robin (each
    /// its own round, and the round before, whose votes went to it), and a TC that forms promptly
    /// after such a round says the network is fine; only longer runs of timeouts (a slow network,
    /// where waiting longer helps) back off.
    func timeoutDuration() -> Int {
        let steps = max(0, consecutiveTimeouts - 2 * validators.faultTolerance)
        return config.baseTimeoutMs << min(steps, config.maxBackoffExponent)
    }

    mutating func scheduleTimer() {
        guard isVoter else { return }
        out.append(.scheduleTimer(round: round, afterMs: timeoutDuration(), epoch: epoch))
    }

    /// The TC that justified entering the current round, if it was entered by timeout.
    var enteredByTC: TimeoutCertificate? {
        guard let t = highTC, t.round + 1 == round else { return nil }
        return t
    }

    mutating func localTimeout() {
        guard isVoter else { return }
        let r = round
        if let mine = myTimeout {
            // Still stuck in this round: say it again (it may have been lost) and wait longer.
            out.append(.broadcast(.timeout(mine, tc: enteredByTC)))
            out.append(.scheduleTimer(round: r, afterMs: timeoutDuration() * 2, epoch: epoch))
            return
        }
        guard
            faults.timeoutWithoutRecording
                || (highQC.round >= safety.highestQCRound && r >= safety.highestVotedRound && r > highQC.round
                    && (r == highQC.round + 1 || enteredByTC != nil))
        else {
            scheduleTimer()
            return
        }
        if !faults.timeoutWithoutRecording { safety.highestVotedRound = max(safety.highestVotedRound, r) }
        safety.highQC = highQC
        safety.highTC = highTC
        out.append(.persist(safety))
        let t = TimeoutMessage(
            round: r, highQC: highQC, signer: id,
            signature: crypto.sign(TimeoutMessage.signingBytes(epoch: epoch, round: r, highQCRound: highQC.round)))
        myTimeout = t
        out.append(.broadcast(.timeout(t, tc: enteredByTC)))
        out.append(.scheduleTimer(round: r, afterMs: timeoutDuration(), epoch: epoch))
        onTimeout(t, tc: nil)
    }

    mutating func onTimeout(_ t: TimeoutMessage, tc: TimeoutCertificate?) {
        let authentic =
            isSigner(t.signer)
            && crypto.verify(
                signer: t.signer,
                message: TimeoutMessage.signingBytes(epoch: t.epoch, round: t.round, highQCRound: t.highQC.round),
                signature: t.signature)
            && valid(t.highQC)
        // The sender's highest QC before its TC: a leader that enters its round by this TC must
        // propose on the highest QC it can know (the TC's highest QC round may be the sender's).
        if authentic {
            heard(t.signer, round: t.round)
            onQC(t.highQC, from: t.signer == id ? nil : t.signer)
        }
        if let tc, tc.round + 1 == t.round, tc.round >= round, valid(tc) { onTC(tc) }
        guard authentic, t.round >= round, t.round <= round + config.futureRounds else { return }
        var forRound = timeouts[t.round, default: [:]]
        guard forRound[t.signer] == nil else { return }
        forRound[t.signer] = TimeoutSignature(signer: t.signer, highQCRound: t.highQC.round, signature: t.signature)
        timeouts[t.round] = forRound
        // f+1 timeouts mean at least one correct replica gave up on this round: join it.
        if forRound.count == validators.faultTolerance + 1, t.round == round, myTimeout == nil {
            localTimeout()
        }
        if let entries = timeouts[t.round], entries.count == validators.quorum {
            onTC(TimeoutCertificate(epoch: epoch, round: t.round, entries: Array(entries.values)))
        }
    }

    // MARK: commit

    /// Commits the parent of `qc`'s block when the two are in consecutive rounds (the QC's vote
    /// data names the parent and its round; a quorum signed them, so at least one correct
    /// replica checked them against the block), with every uncommitted ancestor.
    mutating func tryCommit(_ qc: QuorumCertificate, from: String?) {
        guard qc.round > 0, qc.height > committed.height + 1 else { return }
        guard qc.data.round == qc.data.parentRound + 1 || faults.commitWithoutConsecutiveRounds else { return }
        var chain: [ConsensusBlock] = []
        var cursor = qc.data.parentID
        while true {
            guard let b = blocks[cursor] else {
                rememberCommit(qc)
                if let from { fetch(cursor, from: from) }
                return
            }
            if b.height <= committed.height { break }
            chain.append(b)
            cursor = b.parentID
        }
        // A correct replica only ever extends what it committed; anything else is a fork and is not committed.
        guard let parent = chain.first, cursor == committed.id else { return }
        committed = parent
        out.append(.commit(chain.reversed(), certificate: qc))
        pendingCommits.removeAll { $0.height <= committed.height + 1 }
        prune()
    }

    mutating func rememberCommit(_ qc: QuorumCertificate) {
        if !pendingCommits.contains(qc) { pendingCommits.append(qc) }
        if pendingCommits.count > Self.maxPendingCommits {
            pendingCommits.removeFirst(pendingCommits.count - Self.maxPendingCommits)
        }
    }

    /// Keeps the block tree small: the uncommitted blocks, and the last committed ones (to serve
    /// peers that fall behind); dropped forks of the committed chain go.
    mutating func prune() {
        guard blocks.count > 2 * config.keptCommittedBlocks else { return }
        var keep = Set<Hash256>()
        var cursor: ConsensusBlock? = committed
        while let b = cursor, keep.count < config.keptCommittedBlocks {
            keep.insert(b.id)
            cursor = blocks[b.parentID]
        }
        blocks = blocks.filter { $0.value.height > committed.height || keep.contains($0.key) }
    }

    // MARK: fetching

    mutating func fetch(_ blockID: Hash256, from: String, count: UInt32? = nil) {
        if !wanted.contains(blockID) {
            wanted.append(blockID)
            if wanted.count > Self.maxWanted { wanted.removeFirst(wanted.count - Self.maxWanted) }
        }
        guard from != id, requested.count < Self.maxRequested, requested.insert(blockID.bytes + Array(from.utf8)).inserted
        else { return }
        out.append(.send(to: from, .blockRequest(id: blockID, count: min(count ?? config.fetchBatch, config.fetchBatch))))
    }

    mutating func onBlockRequest(_ blockID: Hash256, count: UInt32, from: String) {
        var list: [ConsensusBlock] = []
        var cursor = blocks[blockID]
        let limit = min(Int(count), ConsensusMessage.maxBlocksPerResponse)
        while let b = cursor, !b.isGenesis, list.count < limit {
            list.append(b)
            cursor = blocks[b.parentID]
        }
        if !list.isEmpty { out.append(.send(to: from, .blockResponse(list))) }
    }

    /// Takes in a chain of blocks, highest first, that starts at a block this replica asked for
    /// (or knows) and goes down parent links; anything else in the response is ignored.
    mutating func onBlockResponse(_ list: [ConsensusBlock], from: String) {
        var added = false
        var expected: Hash256?
        var lowest: ConsensusBlock?
        for b in list {
            if let e = expected {
                guard b.id == e else { break }
            } else {
                guard wanted.contains(b.id) || blocks[b.id] != nil else { break }
            }
            guard b.height > committed.height else { break }
            if blocks[b.id] == nil {
                guard validBlock(b) else { break }
                insert(b)
                added = true
            }
            wanted.removeAll { $0 == b.id }
            requested.remove(b.id.bytes + Array(from.utf8))
            expected = b.parentID
            lowest = b
        }
        guard added, let lowest else { return }
        // The lowest block's parent may still be missing: keep walking back.
        if lowest.height > committed.height + 1, blocks[lowest.parentID] == nil {
            fetch(lowest.parentID, from: from)
        }
        let ready = pendingProposals.filter { blocks[$0.block.parentID] != nil }
        pendingProposals.removeAll { blocks[$0.block.parentID] != nil }
        for (block, tc) in ready { onProposal(block, tc: tc, from: from) }
        for qc in pendingCommits { tryCommit(qc, from: from) }
    }

    mutating func insert(_ b: ConsensusBlock) {
        guard blocks.updateValue(b, forKey: b.id) == nil else { return }
        if b.height > committed.height {
            hooks.inserted(b)
            out.append(.storeBlock(b))
        }
    }
}

/// The sizes of a replica's in-memory collections: each is bounded whatever peers send.
public struct Footprint: Sendable, Hashable, CustomStringConvertible {
    /// Blocks in the tree (uncommitted, and the last committed ones).
    public var blocks: Int
    /// Votes held for rounds this replica leads next.
    public var votes: Int
    /// Timeouts held.
    public var timeouts: Int
    /// Proposals waiting for their parent.
    public var pendingProposals: Int
    /// Certificates waiting for blocks to commit.
    public var pendingCommits: Int
    /// Fetches in flight and blocks asked for.
    public var fetches: Int

    public var description: String {
        "blocks=\(blocks) votes=\(votes) timeouts=\(timeouts) pendingProposals=\(pendingProposals) pendingCommits=\(pendingCommits) fetches=\(fetches)"
    }
}
