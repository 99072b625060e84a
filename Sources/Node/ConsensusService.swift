import ChainCore
import Consensus
import Execution
import Foundation
import Identity
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Live consensus health, for `GET /v1/status`.
public struct ConsensusStatus: Sendable {
    /// Current round.
    public var round: UInt64 = 0
    /// Leader of the current round (elected by reputation or round-robin, `Replica.leader(of:)`).
    public var leader = ""
    /// Validators this node has not heard from (no proposal, vote, timeout or signature in a
    /// certificate) for `ConsensusConfig.silentRounds` rounds: down, or cut off from it.
    public var down: [String] = []
    /// Round of the highest QC.
    public var highQCRound: UInt64 = 0
    /// Height of the last committed consensus block.
    public var committedRound: UInt64 = 0
    /// When the replica last saw progress (a new QC or commit), unix ms.
    public var lastProgressAt: Int64 = 0
    /// The latest timestamp among the consensus blocks this node committed since it started
    /// (unix ms; 0 before its first commit): how far the chain, not only this node's clock, went.
    public var committedTime: Int64 = 0
    /// Validators connected now (besides this one).
    public var peersConnected: [String] = []
    /// Number of validators.
    public var validators = 0
    /// Votes needed for a certificate.
    public var quorum = 0
    /// Why the chain cannot make progress, when that is known.
    public var stalled: String?
    /// The validator-set epoch.
    public var epoch: UInt64 = 0
    /// False for a node that follows the epoch without voting (it left the set).
    public var voter = true
    /// Timeout messages this node broadcast since it started (rounds it gave up waiting for a
    /// certificate in; 0 on a healthy network): a stall that is a round timeout shows here.
    public var timeoutsSent: UInt64 = 0
}

/// Block bookkeeping between proposal and commit: which transactions each uncommitted block holds
/// (so a leader does not propose them again, and a replica refuses a block that repeats them), and
/// the transactions already verified when the block was validated (so they are not verified again
/// at commit).
final class PendingBlocks: Sendable {
    struct Entry {
        let parent: Hash256
        let height: UInt64
        /// The block's transaction ids; nil until first needed for a block only noted (`note`).
        var txids: [Hash256]?
        /// Reads them from the block's payload (noted blocks only; dropped once read).
        var readTxids: (@Sendable () -> [Hash256])?
        var verified: [VerifiedTransaction]?

        /// The ids, read from the payload the first time.
        mutating func ids() -> [Hash256] {
            if let txids { return txids }
            let read = readTxids?() ?? []
            txids = read
            readTxids = nil
            return read
        }
    }

    private let entries = Mutex<[Hash256: Entry]>([:])

    func record(_ block: ConsensusBlock, txids: [Hash256], verified: [VerifiedTransaction]?) {
        entries.withLock { e in
            if var existing = e[block.id] {
                if existing.txids == nil {
                    existing.txids = txids
                    existing.readTxids = nil
                }
                if existing.verified == nil, let verified { existing.verified = verified }
                e[block.id] = existing
            } else {
                e[block.id] = Entry(parent: block.parentID, height: block.height, txids: txids, verified: verified)
            }
        }
    }

    /// Notes a block the replica took into its tree (`PayloadHooks.inserted`), so that the chain
    /// of every block it may extend or vote on is complete here. Its ids are read from the payload
    /// (`txids`) only if a walk needs them before its validation records them.
    func note(_ block: ConsensusBlock, txids: @escaping @Sendable () -> [Hash256]) {
        entries.withLock { e in
            guard e[block.id] == nil else { return }
            e[block.id] = Entry(parent: block.parentID, height: block.height, txids: nil, readTxids: txids)
        }
    }

    /// Transaction ids in `from` and its uncommitted ancestors.
    func txids(inChainFrom from: Hash256) -> Set<Hash256> {
        entries.withLock { e in
            var out = Set<Hash256>()
            var cursor = from
            var steps = 0
            while var entry = e[cursor], steps < 10_000 {
                out.formUnion(entry.ids())
                e[cursor] = entry
                cursor = entry.parent
                steps += 1
            }
            return out
        }
    }

    /// Transaction ids in every uncommitted block held, on any branch.
    func allTxids() -> Set<Hash256> {
        entries.withLock { e in
            var out = Set<Hash256>()
            for key in Array(e.keys) {
                guard var entry = e[key] else { continue }
                out.formUnion(entry.ids())
                e[key] = entry
            }
            return out
        }
    }

    func verified(_ id: Hash256) -> [VerifiedTransaction]? { entries.withLock { $0[id]?.verified } }

    func drop(upTo height: UInt64) { entries.withLock { $0 = $0.filter { $0.value.height > height } } }
}

/// The BFT consensus of a multi-validator chain, as a service: feeds the epoch manager (the
/// replica of the current validator-set epoch) with peer messages and timers, carries out its
/// actions in order (persisting before sending), executes and stores committed blocks, switches
/// epochs at the block whose execution changed the validator set (`docs/consensus.md`), and
/// gathers validators' finality signatures on each chain block.
///
/// Messages on the transport start with a channel byte: 0 = consensus, 1 = finality signature,
/// 2 = transactions gossiped from one validator's clients to the others, 3 = a validator's
/// signature of an epoch change (for light clients' proofs), 4 = a request for the sender's
/// finality signatures of a range of heights (a validator that was down catching up on them).
public final class ConsensusService<Transport: ConsensusTransport>: Service, Sendable {
    enum LoopEvent: Sendable {
        case consensus(ConsensusEvent)
        case finality(from: String, height: UInt64, headerHash: Hash256, signature: [UInt8])
        case epochSignature(from: String, epoch: UInt64, signature: [UInt8])
        /// Time to drop the mempool's expired transactions (`sweepExpired`).
        case sweep
        /// Time to write the finality signatures no block commit carried (`FinalityWrites`).
        case writeFinality
    }

    let node: ChainNode
    let transport: Transport
    let logger: Logger
    let config: ConsensusConfig
    /// How long a leader with nothing to propose waits before proposing an empty block.
    let emptyBlockDelay: Duration
    let pending = PendingBlocks()
    /// The epoch whose configuration the peer network was last given.
    let peersEpoch = Atomic<UInt64>(0)
    let statusBox = Mutex(ConsensusStatus())
    let finalityBuffer = Mutex<[UInt64: [(String, Hash256, [UInt8])]]>([:])
    /// Checked finality signatures waiting to be written with the next block commit (`FinalityWrites`).
    let finalityWrites = Mutex(FinalityWrites())
    /// The headers of the last `finalityWindow` blocks this service committed: the other
    /// validators' finality signatures for them (three per block) are checked against these
    /// instead of a read transaction each.
    let recentHeaders = Mutex<[UInt64: BlockHeader]>([:])
    /// How far above its tip this node keeps finality signatures for blocks it has not committed yet.
    static var finalityWindow: UInt64 { 64 }

    /// Heights up to which this node's blocks all hold a finality quorum (see `requestMissingFinality`).
    let finalityComplete = Atomic<UInt64>(0)
    /// When each peer's last finality request was served (milliseconds).
    let finalityServed = Mutex<[String: Int64]>([:])
    /// Rounds this node stays out of after a restore from backup (see `VoteFence`).
    let voteFence: VoteFence?
    /// Own messages held back by the fence.
    let heldBack = Atomic<Int>(0)

    /// Creates the service for `node`.
    public init(
        node: ChainNode, transport: Transport, config: ConsensusConfig, emptyBlockDelay: Duration, voteFence: VoteFence? = nil,
        logger: Logger
    ) throws {
        self.node = node
        self.voteFence = voteFence
        self.transport = transport
        self.logger = logger
        var config = config
        // A leader with nothing to propose defers its empty proposal this long, unless
        // transactions arrive or an ancestor awaits its commit (the replica's pacing).
        if config.emptyProposalDelayMs == 0 {
            config.emptyProposalDelayMs = Int(
                emptyBlockDelay.components.seconds * 1000 + emptyBlockDelay.components.attoseconds / 1_000_000_000_000_000)
        }
        self.config = config
        self.emptyBlockDelay = emptyBlockDelay
        let set = try Self.validatorSet(node.chainConfig.validators, suite: node.genesis.suite)
        statusBox.withLock {
            $0.validators = set.count
            $0.quorum = set.quorum
        }
    }

    /// The consensus validator set of configuration validators (leader order, keys from their certificates).
    static func validatorSet(_ validators: [ChainConfig.Validator], suite: CryptoSuite) throws -> ValidatorSet {
        var keys: [String: [UInt8]] = [:]
        for v in validators { keys[v.nodeId] = try KeyPEM.publicKey(certificatePEM: v.certificate, suite: suite) }
        return try ValidatorSet(ids: validators.map(\.nodeId), keys: keys)
    }

    /// The epoch the executed chain is in: its number and validators from the configuration; its
    /// root is the chain block whose execution made the last change (the genesis for epoch 0).
    func currentEpoch() throws -> EpochInfo {
        let config = node.chainConfig
        let set = try Self.validatorSet(config.validators, suite: node.genesis.suite)
        guard config.epoch > 0 else { return .genesis(validators: set, genesisID: node.genesisHash) }
        guard let last = try node.epochs().last, last.epoch == config.epoch, let root = try node.store.block(at: last.changedAt)
        else {
            throw ChainError(.storageCorrupt, "epoch \(config.epoch) has no record of the block that started it")
        }
        return EpochInfo(epoch: config.epoch, validators: set, rootID: root.hash, rootHeight: last.changedAt)
    }

    /// Consensus health now.
    public var status: ConsensusStatus {
        var s = statusBox.withLock { $0 }
        s.peersConnected = transport.connectedPeers
        let reachable = s.peersConnected.count + 1
        if reachable < s.quorum {
            s.stalled =
                "\(s.validators - reachable) of \(s.validators) validators unreachable: quorum needs \(s.quorum)"
        } else if s.down.contains(s.leader) {
            // Never a down validator as the leader of a healthy chain: this round waits for its timeout.
            s.stalled = "round \(s.round)'s leader \(s.leader) is down: the round ends by timeout"
        } else if s.lastProgressAt > 0, ChainNode.nowMillis() - s.lastProgressAt > Int64(config.baseTimeoutMs) * 4 {
            s.stalled =
                "no quorum certificate for \((ChainNode.nowMillis() - s.lastProgressAt) / 1000) s (round \(s.round), leader \(s.leader))"
        }
        return s
    }

    func makeManager() throws -> EpochManager<SuiteCrypto> {
        let store = node.store
        let safety = try store.consensus.safety().map { try SafetyData.decode($0) }
        let committed = try store.consensus.committedBlock().map { try ConsensusBlock.decode($0, hasher: self.node.hasher) }
        let stored = try store.consensus.pendingBlocks().compactMap { try? ConsensusBlock.decode($0, hasher: self.node.hasher) }
        for b in stored {
            let txids =
                (try? TransactionBatch.decode(b.payload, maxCount: node.config.maxBlockTxs, hasher: self.node.hasher))?.map(\.id)
                ?? []
            pending.record(b, txids: txids, verified: nil)
        }
        let node = self.node
        let pending = self.pending
        let maxTxs = node.config.maxBlockTxs
        let maxBytes = node.config.maxBlockBytes
        let tolerance = node.config.timestampToleranceMs
        let empty = TransactionBatch.encode([])
        let hooks = PayloadHooks(
            make: { _, parent in
                let candidates = Self.candidates(
                    node: node, pending: pending, parent: parent, maxTxs: maxTxs, nowMillis: ChainNode.nowMillis())
                return Self.payload(candidates.map(\.transaction), maxBytes: maxBytes)
            },
            validate: { block in
                block.payload.count <= maxBytes
                    && Self.validate(block, node: node, pending: pending, maxTxs: maxTxs, tolerance: tolerance)
            },
            now: { ChainNode.nowMillis() },
            isEmpty: { $0 == empty },
            // Half a block's transactions or bytes: such a payload goes at once.
            isFull: { payload in
                payload.count >= maxBytes / 2 || (TransactionBatch.count(of: payload) ?? 0) >= max(1, maxTxs / 2)
            },
            inserted: { block in
                let hasher = node.hasher
                pending.note(block) {
                    (try? TransactionBatch.decode(block.payload, maxCount: maxTxs, hasher: hasher))?.map(\.id) ?? []
                }
            })
        let selfID = node.config.nodeId
        let key = node.signingKey
        return EpochManager(
            current: try currentEpoch(), makeCrypto: { set in SuiteCrypto(selfID: selfID, key: key, validators: set) },
            config: config, hooks: hooks, safety: safety, committed: committed, storedBlocks: stored)
    }

    /// What a leader proposes on `parent`: the oldest waiting transactions not already in its
    /// uncommitted ancestors. A transaction within `ChainNode.proposalMarginMs` of leaving the
    /// timestamp tolerance is left out: a block holding it could be refused by every replica (the
    /// tolerance holds against the block's timestamp), and it is about to be reported expired
    /// (`sweepExpired`), which must not be followed by its commit.
    static func candidates(node: ChainNode, pending: PendingBlocks, parent: Hash256, maxTxs: Int, nowMillis: Int64)
        -> [VerifiedTransaction]
    {
        node.mempool.peek(
            max: maxTxs, excluding: pending.txids(inChainFrom: parent), notBefore: node.proposableAfter(nowMillis: nowMillis))
    }

    /// Drops the waiting transactions past the timestamp tolerance (`ChainNode.expireStale`): no
    /// block may hold them any more, so they would wait for ever. Those in any uncommitted block
    /// this node holds stay (that block may still commit them). Runs on the loop every second,
    /// between commits, on every validator (not only leaders), so a client waiting on any of them
    /// learns at once that its transaction expired.
    ///
    /// The time that counts is the earlier of this node's clock and the latest block it committed
    /// (`committedTime`; idle chains commit empty blocks): a validator cut off from the others
    /// commits nothing, and cannot tell whether a block it never saw, proposed before the
    /// deadline, holds the transaction and commits without it. So it says nothing (the
    /// transaction stays pending) until its chain has moved past the deadline: any block after
    /// that one was proposed after the deadline, when honest leaders no longer take it.
    func sweepExpired(nowMillis: Int64 = ChainNode.nowMillis()) {
        let expired = Self.expireStale(
            node: node, pending: pending, nowMillis: nowMillis, committedTime: statusBox.withLock { $0.committedTime })
        if !expired.isEmpty {
            logger.warning(
                "dropped transactions older than the timestamp tolerance from the mempool",
                metadata: ["count": "\(expired.count)", "first": "\(expired[0].hex)"])
        }
    }

    /// `sweepExpired`'s rule: the time that counts is the earlier of the clock and the latest
    /// committed block's, and what the uncommitted blocks in `pending` carry stays (their ids
    /// gathered only when something is past the cutoff). Returns the ids reported expired.
    static func expireStale(node: ChainNode, pending: PendingBlocks, nowMillis: Int64, committedTime: Int64) -> [Hash256] {
        node.expireStale(nowMillis: min(nowMillis, committedTime), keeping: { pending.allTxids() })
    }

    /// The encoded batch of the longest prefix of `txs` that fits in `maxBytes`.
    static func payload(_ txs: [SignedTransaction], maxBytes: Int) -> [UInt8] {
        var budget = maxBytes - 5  // version byte and count
        let fitting = txs.prefix { tx in
            budget -= 12 + tx.body.count + tx.signature.count + tx.signerCertificate.count  // three length prefixes
            return budget >= 0
        }
        return TransactionBatch.encode(Array(fitting))
    }

    /// Whether to vote for `block`: sane timestamp, decodable payload, every transaction valid (a
    /// transaction this node's mempool already admitted is not verified again), none repeated in
    /// the block, its uncommitted ancestors or the committed chain.
    static func validate(_ block: ConsensusBlock, node: ChainNode, pending: PendingBlocks, maxTxs: Int, tolerance: Int64) -> Bool
    {
        guard abs(block.timestamp - ChainNode.nowMillis()) <= tolerance,
            let txs = try? TransactionBatch.decode(block.payload, maxCount: maxTxs, hasher: node.hasher)
        else { return false }
        let earlier = pending.txids(inChainFrom: block.parentID)
        var seen = Set<Hash256>()
        var known: [VerifiedTransaction?] = []
        known.reserveCapacity(txs.count)
        var unknown: [SignedTransaction] = []
        for tx in txs {
            guard seen.insert(tx.id).inserted, !earlier.contains(tx.id) else { return false }
            // The id covers only the body: reuse this node's verification only for the very same
            // bytes (a leader could pair a known body with another signature or certificate).
            if let held = node.mempool.transaction(tx.id), held.transaction == tx {
                // The clock rule against the block's timestamp, as for transactions this node
                // has not seen: every replica decides alike, whatever its mempool holds.
                guard abs(held.body.timestamp - block.timestamp) <= tolerance else { return false }
                known.append(held)
            } else {
                known.append(nil)
                unknown.append(tx)
            }
        }
        // What this node has not verified yet, verified together (one batch's verdicts are each
        // signature's own: the same outcome as one by one, at a third of the cost per signature).
        var fresh: [VerifiedTransaction] = []
        fresh.reserveCapacity(unknown.count)
        for outcome in node.verifier.verify(unknown, nowMillis: block.timestamp) {
            guard case .success(let v) = outcome else { return false }
            fresh.append(v)
        }
        var next = fresh.makeIterator()
        let verified = known.map { $0 ?? next.next()! }
        guard let committed = try? node.store.committedIDs(among: verified.map { ($0.id, $0.body.timestamp) }), committed.isEmpty
        else { return false }
        pending.record(block, txids: Array(seen), verified: verified)
        // Verified once: the same transactions gossiped here later are recognised, not verified again.
        if !fresh.isEmpty { node.mempool.adopt(fresh) }
        return true
    }

    public func run() async throws {
        var manager = try makeManager()
        let (events, continuation) = AsyncStream.makeStream(of: LoopEvent.self)
        logger.info(
            "consensus started",
            metadata: [
                "epoch": "\(manager.current.epoch)", "validators": "\(manager.current.validators.count)",
                "round": "\(manager.replica.round)", "committed": "\(manager.replica.committed.height)",
            ])
        let transport = self.transport
        let gossip = TransactionGossip { transport.broadcast($0) }
        node.onEpochSigned { change, signature in transport.broadcast(Self.epochSignatureMessage(change.epoch, signature)) }
        // A leader that deferred an empty proposal proposes (or batches) as soon as a transaction
        // arrives; admissions wake the loop only then (`PayloadWakeups`), not while it batches.
        let wakeups = PayloadWakeups()
        node.onAdmission { tx in
            gossip.add(tx)
            if wakeups.admitted() { continuation.yield(.consensus(.payloadReady)) }
        }
        updatePeers(previous: nil)
        // Other configuration changes in the same epoch (a revoked certificate, a CA added or
        // removed) reach the peer network at once; an epoch's own change is applied at the switch.
        node.onConfigChange { [weak self] fresh in
            guard let self, fresh.epoch == self.peersEpoch.load(ordering: .relaxed) else { return }
            self.updatePeers(previous: nil)
        }
        // The loop blocks on SQLite (commits with fsync): it runs on a thread of its own, with
        // its timers, not on the cooperative pool (`ThreadExecutor`), at a lower nice value than
        // ingestion when the process may (`consensusThreadNice`). The thread outlives the task
        // group: the timers are child tasks preferring it, and the group waits for them.
        let nice = Int32(node.config.consensusThreadNice)
        let loopThread = ThreadExecutor(name: "consensus", nice: nice)
        defer { loopThread.shutdown() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await gossip.run() }
            group.addTask {
                // A signature sent once may miss a peer not yet connected or not yet at that
                // epoch: this node's signatures of the last few epoch changes are sent again
                // every few seconds (a handful of small messages; receivers skip ones they hold).
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(3))
                    self.regossipEpochSignatures()
                    self.requestMissingFinality()
                    self.regossipWaiting()
                }
            }
            group.addTask {
                // Expired transactions are dropped on the loop, between commits (`sweepExpired`).
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    continuation.yield(.sweep)
                }
            }
            // Gossiped batches are verified and admitted by a task of their own, so that a proposal
            // or a vote never waits in the receive loop behind the verification of a batch (a
            // 256-transaction batch is 15-20 ms of Ed25519 and ~75 ms of SM2 CPU). Bounded: when
            // verification cannot keep up, further batches are dropped, as gossip to a full mempool
            // is (the sender keeps them; a proposal carries them, or they are gossiped again).
            let (gossiped, gossipInbox) = AsyncStream.makeStream(
                of: [SignedTransaction].self, bufferingPolicy: .bufferingOldest(Self.gossipQueueBatches))
            group.addTask {
                for await txs in gossiped {
                    self.node.admitGossiped(txs)
                    if wakeups.admitted() { continuation.yield(.consensus(.payloadReady)) }
                }
            }
            group.addTask {
                defer { gossipInbox.finish() }
                await self.transport.receive { from, bytes in
                    switch PeerChannelMessage.decode(bytes, hasher: self.node.hasher) {
                    case .transactions(let txs)?:
                        // Gossiped transactions go straight to the mempool, off the consensus loop
                        // and off this receive loop.
                        if !txs.isEmpty { gossipInbox.yield(txs) }
                    case .finalityRequest(let height, let count)?:
                        self.serveFinality(to: from, from: height, count: count)
                    case let message?:
                        if let event = Self.event(from: from, message) { continuation.yield(event) }
                    case nil:
                        break
                    }
                }
            }
            continuation.yield(.consensus(.start))
            finalityWrites.withLock { $0.loopStarted() }
            try await withTaskExecutorPreference(loopThread) {
                // Stopping, or failing: what is queued is written if it can be.
                defer { try? node.store.addSignatures(finalityWrites.withLock { $0.take() }) }
                reportThreadNice(requested: nice)
                for await event in events.cancelOnGracefulShutdown() {
                    switch event {
                    case .consensus(let e):
                        let admissionsBefore = wakeups.mark()
                        var queue = Self.sendsBeforeCommits(manager.handle(e)) { blocks in
                            blocks.contains { b in
                                pending.verified(b.id)?.contains { $0.body.contract == Self.epochChangingContract } ?? true
                            }
                        }
                        if case .message(let from, .blockRequest(let id, let count)) = e, queue.isEmpty {
                            serveFromStore(id, count: count, to: from)
                        }
                        var i = 0
                        while i < queue.count {
                            let action = queue[i]
                            i += 1
                            switch action {
                            case .scheduleTimer(let round, let ms, let epoch):
                                group.addTask {
                                    try? await Task.sleep(for: .milliseconds(ms))
                                    continuation.yield(.consensus(.timer(round: round, epoch: epoch)))
                                }
                            case .scheduleProposal(let round, let ms, let epoch):
                                group.addTask {
                                    try? await Task.sleep(for: .milliseconds(ms))
                                    continuation.yield(.consensus(.proposalDue(round: round, epoch: epoch)))
                                }
                            case .commit(let blocks, let certificate):
                                // Blocks in order; at the first whose execution changed the validator
                                // set the epoch ends: the rest of this list is dropped and the next
                                // epoch's actions are carried out instead.
                                for (k, block) in blocks.enumerated() {
                                    let before = node.chainConfig
                                    let chainBlock = try commit(block)
                                    let after = node.chainConfig
                                    guard after.epoch != before.epoch, let chainBlock else { continue }
                                    let next = try Self.validatorSet(after.validators, suite: node.genesis.suite)
                                    queue = manager.endEpoch(
                                        lastBlock: block, certificate: certificate,
                                        committedAfter: Array(blocks.dropFirst(k + 1)),
                                        next: next, root: (chainBlock.header.hash, chainBlock.header.height))
                                    i = 0
                                    logger.info(
                                        "epoch switch",
                                        metadata: [
                                            "epoch": "\(manager.current.epoch)", "validators": "\(next.ids)",
                                            "rootHeight": "\(chainBlock.header.height)", "voter": "\(manager.replica.isVoter)",
                                        ])
                                    updatePeers(previous: before.validators)
                                    break
                                }
                            case .persist, .storeBlock:
                                let run = Self.storageRun(queue, from: i - 1)
                                try node.store.consensus.save(blocks: run.blocks, safety: run.safety?.encoded)
                                i = run.end
                            case .send(let to, let m):
                                send(m, to: to)
                            case .broadcast(let m):
                                broadcast(m)
                            }
                        }
                        // A replica left deferring its proposal proposes on the next admission; one
                        // admitted while it decided may have been missed: propose now (no lost wake-up).
                        if wakeups.settled(after: admissionsBefore, waits: manager.replica.awaitsPayload) {
                            continuation.yield(.consensus(.payloadReady))
                        }
                        updateStatus(manager)
                    case .finality(let from, let height, let hash, let signature):
                        try addFinality(from: from, height: height, headerHash: hash, signature: signature)
                    case .epochSignature(let from, let epoch, let signature):
                        // Only changes this node knows of (it executed them) are kept; others are dropped.
                        if epoch <= node.chainConfig.epoch {
                            try node.addEpochSignature(ValidatorSignature(validator: from, signature: signature), epoch: epoch)
                        }
                    case .sweep:
                        sweepExpired()
                    case .writeFinality:
                        try writeFinality(finalityWrites.withLock { $0.timerFired() })
                    }
                    if finalityWrites.withLock({ $0.needsTimer() }) {
                        group.addTask {
                            try? await Task.sleep(for: .milliseconds(Self.finalityWriteDelayMs))
                            continuation.yield(.writeFinality)
                        }
                    }
                }
            }
            continuation.finish()
            gossip.finish()
            group.cancelAll()
        }
        logger.info("consensus stopped")
    }

    /// Says at what nice value the consensus loop runs (called on its thread): a gauge, and a
    /// warning when the configured value could not be set.
    func reportThreadNice(requested: Int32) {
        let actual = ThreadExecutor.niceValue()
        node.metrics.gauge("xiangchain_consensus_thread_nice", Double(actual))
        guard actual != requested else { return }
        logger.warning(
            "the consensus thread runs at nice \(actual), not \(requested): the process may not lower it (CAP_SYS_NICE, or LimitNICE=\(requested) in the systemd unit); under CPU contention rounds then wait behind ingestion",
            metadata: ["consensusThreadNice": "\(requested)", "actual": "\(actual)"])
    }

    /// How long after a finality signature was queued the loop writes what no block commit has
    /// carried by then (ms; `FinalityWrites`): the others' signatures of a block come within
    /// moments of each other, and a proof asked for right after a commit should not wait long.
    static var finalityWriteDelayMs: Int { 10 }

    /// Writes finality signatures taken from the queue in one transaction; when that fails they
    /// are queued again (the loop then ends, and its last act is to try once more).
    func writeFinality(_ list: [(height: UInt64, signature: ValidatorSignature)]) throws {
        do {
            try node.store.addSignatures(list)
        } catch {
            finalityWrites.withLock { $0.putBack(list) }
            throw error
        }
    }

    /// Gossiped batches waiting for verification at most; more are dropped until it catches up.
    static var gossipQueueBatches: Int { 16 }

    /// How long after it was signed a waiting transaction is gossiped again (ms).
    static var regossipAfterMs: Int64 { 10_000 }
    /// Most transactions gossiped again at a time.
    static var regossipBatch: Int { 256 }

    /// Gossip is best effort: a peer whose mempool is full drops it (`ChainNode.admitGossiped`), and
    /// so does a full outbound queue. Such a transaction then waits in this node's mempool only,
    /// and is proposed only when this validator leads — which leader reputation may not elect it
    /// to for long (a validator whose votes come last signs few certificates), so an acknowledged
    /// transaction could wait until it expires. Every few seconds the oldest waiting transactions
    /// signed over `regossipAfterMs` ago that no uncommitted block holds are gossiped again (at
    /// most `regossipBatch`; peers skip those they hold, and those committed). Returns how many.
    @discardableResult
    func regossipWaiting(nowMillis: Int64 = ChainNode.nowMillis()) -> Int {
        let stale = node.mempool.peek(
            max: Self.regossipBatch, excluding: pending.allTxids(), signedBefore: nowMillis - Self.regossipAfterMs)
        guard !stale.isEmpty else { return 0 }
        transport.broadcast(TransactionGossip.message(stale.map(\.transaction)))
        return stale.count
    }

    /// Most heights one finality request covers.
    static var finalityRequestSpan: UInt64 { 256 }

    /// A validator that was down or started late missed the finality signatures its peers sent
    /// when they committed: its blocks would have no quorum and its proofs would fail. Every few
    /// seconds it looks at its last `finalityRequestSpan` blocks (below its tip, which may still
    /// be collecting), from the lowest one without a quorum of valid signatures, and asks its
    /// peers (channel 4: `u64 from, u32 count`); each answers with its own signatures.
    func requestMissingFinality() {
        guard let tip = try? node.store.tip()?.height, tip > 1 else { return }
        let floor = max(
            finalityComplete.load(ordering: .relaxed) + 1, tip > Self.finalityRequestSpan ? tip - Self.finalityRequestSpan : 1)
        guard floor < tip, let blocks = try? node.store.signedHeaders(from: floor, limit: Int(tip - floor)) else { return }
        var lacking: UInt64?
        for (header, signatures) in blocks {
            guard let check = try? node.finalityCheck(forHeight: header.height) else { return }
            let valid = Set(signatures.map(\.validator)).filter { check.keys[$0] != nil }.count
            if valid < check.quorum {
                lacking = header.height
                break
            }
            finalityComplete.store(header.height, ordering: .relaxed)
        }
        guard let lacking else { return }
        transport.broadcast(
            PeerChannelMessage.finalityRequest(from: lacking, count: UInt32(min(tip - lacking, Self.finalityRequestSpan))).encoded
        )
    }

    /// Answers a peer's finality request with this node's own signatures of those heights, at
    /// most one request per peer every 2 s (a peer cannot make it read blocks without bound).
    func serveFinality(to peer: String, from: UInt64, count: UInt32) {
        guard from > 0 else { return }
        let now = ChainNode.nowMillis()
        let allowed = finalityServed.withLock { served in
            if let last = served[peer], now - last < 2_000 { return false }
            if served.count > 1024 { served.removeAll() }
            served[peer] = now
            return true
        }
        guard allowed else { return }
        let span = Int(min(UInt64(count), Self.finalityRequestSpan))
        guard let blocks = try? node.store.signedHeaders(from: from, limit: span) else { return }
        let me = node.config.nodeId
        for (header, signatures) in blocks {
            guard let own = signatures.first(where: { $0.validator == me }) else { continue }
            transport.send(
                to: peer,
                PeerChannelMessage.finality(height: header.height, headerHash: header.hash, signature: own.signature).encoded)
        }
    }

    static func epochSignatureMessage(_ epoch: UInt64, _ signature: ValidatorSignature) -> [UInt8] {
        PeerChannelMessage.epochSignature(epoch: epoch, signature: signature.signature).encoded
    }

    func regossipEpochSignatures() {
        let current = node.chainConfig.epoch
        guard current > 0 else { return }
        for epoch in (current >= 3 ? current - 2 : 1)...current {
            guard let own = try? node.store.epochSignatures(epoch: epoch).first(where: { $0.validator == node.config.nodeId })
            else { continue }
            transport.broadcast(Self.epochSignatureMessage(epoch, own))
        }
    }

    /// Tells the transport which validators to keep connections with: those in force, and the
    /// previous epoch's (whose messages may still carry what a lagging peer needs), and the CAs.
    func updatePeers(previous: [ChainConfig.Validator]?) {
        let config = node.chainConfig
        peersEpoch.store(config.epoch, ordering: .relaxed)
        transport.setValidators(Self.peers(config, previous: previous), caCertificates: config.orgs.flatMap(\.roots))
    }

    /// The validators to keep connections with under `config`: its set and `previous`, less any
    /// whose certificate is revoked (a revoked node's connections close at once).
    static func peers(_ config: ChainConfig, previous: [ChainConfig.Validator]?) -> [ChainConfig.Validator] {
        var list = config.validators
        for v in previous ?? [] where !list.contains(where: { $0.nodeId == v.nodeId }) { list.append(v) }
        return list.filter { v in
            guard let der = try? KeyPEM.certificateDER(fromPEM: v.certificate) else { return false }
            return !config.isRevoked(Hash256.sha256(der).hex)
        }
    }

    /// The loop event of a message on channel 0, 1 or 3 from `from` (nil for other channels).
    static func event(from: String, _ message: PeerChannelMessage) -> LoopEvent? {
        switch message {
        case .consensus(let m): return .consensus(.message(from: from, m))
        case .finality(let height, let hash, let sig):
            return .finality(from: from, height: height, headerHash: hash, signature: sig)
        case .epochSignature(let epoch, let sig): return .epochSignature(from: from, epoch: epoch, signature: sig)
        case .transactions, .finalityRequest: return nil
        }
    }

    /// The loop event of the wire bytes `bytes` from `from` (nil when malformed or not a loop event).
    static func parse(from: String, _ bytes: [UInt8], hasher: ChainHasher) -> LoopEvent? {
        PeerChannelMessage.decode(bytes, hasher: hasher).flatMap { event(from: from, $0) }
    }

    /// Sends `m` to `to`, unless the vote fence holds it back.
    func send(_ m: ConsensusMessage, to: String) {
        if holdBack(m) { return }
        transport.send(to: to, PeerChannelMessage.consensus(m).encoded)
    }

    /// Sends `m` to every peer, unless the vote fence holds it back.
    func broadcast(_ m: ConsensusMessage) {
        if case .timeout = m { statusBox.withLock { $0.timeoutsSent += 1 } }
        if holdBack(m) { return }
        transport.broadcast(PeerChannelMessage.consensus(m).encoded)
    }

    /// True when the vote fence keeps this own proposal, vote or timeout from being sent.
    func holdBack(_ m: ConsensusMessage) -> Bool {
        guard let voteFence, voteFence.holdsBack(m) else { return false }
        if heldBack.wrappingAdd(1, ordering: .relaxed).oldValue == 0 {
            logger.warning(
                "restored from a backup: sending no proposal, vote or timeout until past the vote fence",
                metadata: ["fenceEpoch": "\(voteFence.epoch)", "fenceRound": "\(voteFence.round)"])
        }
        return true
    }

    /// The run of storage actions (`.storeBlock`, `.persist`) starting at `start`, to be written
    /// in one SQLite transaction (one `fsync` instead of one each: a follower stores a proposal's
    /// block and persists the safety data of the vote it earned, both before the vote leaves):
    /// the blocks in order, the last safety data (each one holds the whole state, and nothing
    /// was sent between them), and the index after the run.
    static func storageRun(
        _ actions: [ConsensusAction], from start: Int
    ) -> (blocks: [(id: Hash256, height: UInt64, bytes: [UInt8])], safety: SafetyData?, end: Int) {
        var blocks: [(id: Hash256, height: UInt64, bytes: [UInt8])] = []
        var safety: SafetyData?
        var end = start
        while end < actions.count {
            switch actions[end] {
            case .persist(let s): safety = s
            case .storeBlock(let b): blocks.append((b.id, b.height, b.encoded))
            default: return (blocks, safety, end)
            }
            end += 1
        }
        return (blocks, safety, end)
    }

    /// The contract whose transactions can change the validator set (and so end the epoch).
    static var epochChangingContract: String { "governance" }

    /// The replica's actions in the order the loop carries them out: what it sends (and the
    /// safety data persisted before each vote, in their own order) goes before the execution and
    /// storage of the blocks it committed, so its vote or proposal reaches the others while it
    /// executes, instead of a round waiting on every replica's SQLite commit. The messages were
    /// made before any of these commits ran in either order (a proposal's payload excludes the
    /// transactions of its uncommitted ancestors), so they do not change. Kept in the replica's
    /// order when a committed block may change the validator set (`mayEndEpoch`: a governance
    /// transaction, or transactions this node has not validated): the loop then drops the
    /// actions after that block and carries out the next epoch's instead.
    static func sendsBeforeCommits(_ actions: [ConsensusAction], mayEndEpoch: ([ConsensusBlock]) -> Bool) -> [ConsensusAction] {
        var commits: [ConsensusAction] = []
        var others: [ConsensusAction] = []
        for action in actions {
            guard case .commit(let blocks, _) = action else {
                others.append(action)
                continue
            }
            if mayEndEpoch(blocks) { return actions }
            commits.append(action)
        }
        return commits.isEmpty ? actions : others + commits
    }

    /// Executes and stores a committed consensus block; returns the chain block it became (nil
    /// for a block that carried no new transaction).
    @discardableResult
    func commit(_ b: ConsensusBlock) throws -> Block? {
        let txs = pending.verified(b.id) ?? verifyAtCommit(b)
        let record = (id: b.id, height: b.height, bytes: b.encoded)
        // The finality signatures queued since the last commit go into this commit's transaction
        // (queued again if it fails).
        let carried = finalityWrites.withLock { $0.take() }
        let chainBlock: Block?
        do {
            chainBlock = try node.commitBlock(
                txs, proposer: b.author, timestamp: b.timestamp, consensusBlock: record, finality: carried)
            if chainBlock == nil {
                // No new transaction: the consensus block's record carries them instead.
                try node.store.consensus.recordCommitted(id: b.id, height: b.height, bytes: record.bytes, finality: carried)
            }
        } catch {
            finalityWrites.withLock { $0.putBack(carried) }
            throw error
        }
        if let block = chainBlock {
            let height = block.header.height
            recentHeaders.withLock { headers in
                headers[height] = block.header
                if headers.count > Int(Self.finalityWindow) {
                    headers = headers.filter { $0.key + Self.finalityWindow > height }
                }
            }
            transport.broadcast(
                PeerChannelMessage.finality(
                    height: block.header.height, headerHash: block.header.hash, signature: block.signatures[0].signature
                ).encoded)
            let buffered = finalityBuffer.withLock { $0.removeValue(forKey: block.header.height) } ?? []
            for (from, hash, sig) in buffered {
                try addFinality(from: from, height: block.header.height, headerHash: hash, signature: sig)
            }
        }
        pending.drop(upTo: b.height)
        statusBox.withLock {
            $0.committedRound = b.round
            $0.lastProgressAt = ChainNode.nowMillis()
            $0.committedTime = max($0.committedTime, b.timestamp)
        }
        return chainBlock
    }

    /// The transactions of a committed block this node did not validate before. A quorum voted
    /// for the block, so it validated them; here each one's signature and certificate are checked
    /// at the block's own timestamp, but not admission's clock-distance rule (a transaction may
    /// have waited in a mempool longer than that), so this node keeps the same ones as the
    /// validators that voted.
    func verifyAtCommit(_ b: ConsensusBlock) -> [VerifiedTransaction] {
        guard let txs = try? TransactionBatch.decode(b.payload, maxCount: node.config.maxBlockTxs, hasher: node.hasher) else {
            return []
        }
        return txs.compactMap { try? node.certifiedTransaction($0, at: b.timestamp) }
    }

    func addFinality(from: String, height: UInt64, headerHash: Hash256, signature: [UInt8]) throws {
        // The signer must be a validator in force at that height (a set changes between epochs).
        guard let key = try node.finalityCheck(forHeight: height).keys[from] else { return }
        guard let header = try recentHeaders.withLock({ $0[height] }) ?? node.store.header(at: height) else {
            // A signature can outrun this node's own commit of the block: keep it for a while, but
            // only for the next few heights and once per validator, so a validator cannot grow
            // the buffer (it holds at most finalityWindow × validators entries).
            let tip = try node.store.tip()?.height ?? 0
            guard height > tip, height - tip <= Self.finalityWindow else { return }
            finalityBuffer.withLock { buffer in
                buffer = buffer.filter { $0.key > tip }
                guard buffer[height]?.contains(where: { $0.0 == from }) != true else { return }
                buffer[height, default: []].append((from, headerHash, signature))
            }
            return
        }
        guard header.hash == headerHash else {
            logger.error(
                "validator \(from) signed a different header at height \(height): execution diverged",
                metadata: ["ours": "\(header.hash.hex)", "theirs": "\(headerHash.hex)"])
            return
        }
        guard node.genesis.suite.verify(signature: signature, message: header.signingMessage, publicKey: key) else {
            return
        }
        // Written with the next block commit, or by the loop's timer (`FinalityWrites`).
        let full = finalityWrites.withLock {
            $0.add(height: height, signature: ValidatorSignature(validator: from, signature: signature))
        }
        if full { try writeFinality(finalityWrites.withLock { $0.take() }) }
    }

    func serveFromStore(_ id: Hash256, count: UInt32, to peer: String) {
        var list: [ConsensusBlock] = []
        var cursor = id
        let limit = min(Int(count), ConsensusMessage.maxBlocksPerResponse)
        while list.count < limit, let raw = try? node.store.consensus.block(id: cursor),
            let b = try? ConsensusBlock.decode(raw, hasher: node.hasher),
            !b.isGenesis
        {
            list.append(b)
            cursor = b.parentID
        }
        if !list.isEmpty { transport.send(to: peer, PeerChannelMessage.consensus(.blockResponse(list)).encoded) }
    }

    func updateStatus(_ manager: EpochManager<SuiteCrypto>) {
        let replica = manager.replica
        let set = manager.current.validators
        statusBox.withLock { s in
            if replica.highQC.round > s.highQCRound || s.epoch != manager.current.epoch {
                s.lastProgressAt = ChainNode.nowMillis()
            }
            s.epoch = manager.current.epoch
            s.round = replica.round
            s.leader = replica.leader(of: replica.round)
            s.down = replica.silentValidators
            s.highQCRound = replica.highQC.round
            s.validators = set.count
            s.quorum = set.quorum
            s.voter = replica.isVoter
            if s.lastProgressAt == 0 { s.lastProgressAt = ChainNode.nowMillis() }
        }
    }
}
