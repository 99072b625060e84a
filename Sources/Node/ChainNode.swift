import ChainCore
import Execution
import Foundation
import Identity
import Logging
import Storage
import Synchronization

/// One node's chain: the store, admission, mempool, execution and block production.
///
/// In solo mode this node is the only validator: it cuts blocks from its mempool, executes them
/// and commits each in one SQLite transaction, sealed with its own signature.
public final class ChainNode: Sendable {
    /// The genesis document.
    public let genesis: Genesis
    /// Hash of the genesis.
    public let genesisHash: Hash256
    /// This node's settings.
    public let config: NodeConfig
    /// The chain on disk.
    public let store: BlockStore
    /// Admission checks.
    public let verifier: TransactionVerifier
    /// Waiting transactions.
    public let mempool: Mempool
    /// Commit notifications for waiting clients.
    public let notifier = CommitNotifier()
    /// On an observer, the transactions it forwarded to a validator lately (the only ones it asks
    /// its validators about, `Admission.upstreamStatus`).
    public let forwarded = ForwardedTransactions()
    /// The recent commit rate that sets the mempool's admission limit (nil: the capacity alone).
    let commitRate: CommitRate?
    /// Contract execution.
    public let executor: BlockExecutor
    /// Operational metrics (`GET /metrics`).
    public let metrics: NodeMetrics
    /// Where the chain configuration in force comes from (genesis, then governance).
    public let configSource: ConfigSource
    /// The state snapshots this node writes (`snapshotInterval` > 0), next to its database.
    public let snapshots: SnapshotShelf?
    let currentConfig: Mutex<ChainConfig>
    struct ConfigListener: Sendable {
        let call: @Sendable (ChainConfig) -> Void
    }
    let configListeners = Mutex<[ConfigListener]>([])
    let finalityCache = Mutex<[UInt64: FinalityCheck]>([:])
    let epochCache = Mutex<[(epoch: UInt64, firstHeight: UInt64, changedAt: UInt64, validators: [ChainConfig.Validator])]?>(
        nil)
    let nodeKey: SigningKey
    let logger: Logger
    let production = Mutex<Void>(())
    /// A closure kept in a struct: a bare function value stored in `Mutex`'s generic storage is
    /// reabstracted on every `withLock { $0 }` and written back wrapped in one more thunk, so each
    /// admission made the next one slower (thousands of nested thunks per call after a few seconds
    /// of load; a quarter of a validator's CPU in the profile).
    struct AdmissionListener: Sendable {
        let call: @Sendable (SignedTransaction) -> Void
    }
    let admissionListener = Mutex<AdmissionListener?>(nil)

    /// Called with each transaction this node admits from a client (consensus gossips them to the
    /// other validators, so that any leader can propose them).
    public func onAdmission(_ listener: @escaping @Sendable (SignedTransaction) -> Void) {
        admissionListener.withLock { $0 = AdmissionListener(call: listener) }
    }

    /// The chain id.
    public var chainId: String { genesis.chainId }

    /// True for a node outside the validator set in force: it follows the chain through block
    /// sync, serves reads, and takes no part in consensus.
    public var isObserver: Bool { !chainConfig.validators.contains(where: { $0.nodeId == config.nodeId }) }

    /// The check the header of the block at `height` must pass to be final: a quorum of the
    /// validators in force at the start of that block (the genesis ones, until governance
    /// changes them; `docs/governance.md`, epochs).
    public func finalityCheck(forHeight height: UInt64) throws -> FinalityCheck {
        let epoch = try epochs().last(where: { $0.firstHeight <= height })?.epoch ?? 0
        if let hit = finalityCache.withLock({ $0[epoch] }) { return hit }
        let validators = try validators(forHeight: height)
        var keys: [String: [UInt8]] = [:]
        for v in validators { keys[v.nodeId] = try KeyPEM.publicKey(certificatePEM: v.certificate, suite: genesis.suite) }
        let check = FinalityCheck(
            keys: keys, quorum: validators.count == 1 ? 1 : validators.count * 2 / 3 + 1, suite: genesis.suite)
        finalityCache.withLock { $0[epoch] = check }
        return check
    }

    /// The validator epochs recorded by governance, oldest first: the first height of each and
    /// its validators.
    public func epochs() throws -> [(epoch: UInt64, firstHeight: UInt64, changedAt: UInt64, validators: [ChainConfig.Validator])]
    {
        if let cached = epochCache.withLock({ $0 }) { return cached }
        var out: [(epoch: UInt64, firstHeight: UInt64, changedAt: UInt64, validators: [ChainConfig.Validator])] = []
        for e in try store.scan(prefix: "governance/epoch/", after: nil, limit: 100_000) {
            let v = try JSONParser().parse(e.value)
            guard let epoch = v["epoch"]?.int64Value, let first = v["firstHeight"]?.int64Value,
                let changed = v["changedAtHeight"]?.int64Value, let list = v["validators"]?.arrayValue
            else { throw ChainError(.storageCorrupt, "epoch record \(e.key) does not decode") }
            let validators = list.compactMap { o -> ChainConfig.Validator? in
                guard let id = o["nodeId"]?.stringValue, let org = o["org"]?.stringValue,
                    let cert = o["certificate"]?.stringValue, let address = o["p2pAddress"]?.stringValue
                else { return nil }
                return ChainConfig.Validator(nodeId: id, org: org, certificate: cert, p2pAddress: address)
            }
            out.append((UInt64(epoch), UInt64(first), UInt64(changed), validators))
        }
        epochCache.withLock { $0 = out }
        return out
    }

    /// The validators in force at the start of the block at `height`.
    public func validators(forHeight height: UInt64) throws -> [ChainConfig.Validator] {
        guard let epoch = try epochs().last(where: { $0.firstHeight <= height }) else {
            return genesis.initialConfig.validators
        }
        return epoch.validators
    }

    /// Opens the node's store and binds it to the genesis.
    public init(
        genesis: Genesis, config: NodeConfig, databasePath: String, nodeKey: SigningKey, contracts: [any Contract],
        logger: Logger, metrics: NodeMetrics = NodeMetrics()
    ) throws {
        self.metrics = metrics
        self.genesis = genesis
        self.genesisHash = try genesis.hash
        self.config = config
        self.nodeKey = nodeKey
        self.logger = logger
        guard nodeKey.suite == genesis.suite else {
            throw ChainError(.wrongSuite, "node key is \(nodeKey.suite.rawValue); the chain uses \(genesis.suite.rawValue)")
        }
        // Which Ed25519 signatures verify is a rule of the chain, and the library that decides it
        // is the system's: a libsodium that answers otherwise than expected stops the node here.
        if genesis.suite == .ed25519 { try Ed25519Verification.selfTest() }
        store = try BlockStore(
            path: databasePath, hasher: genesis.suite.hasher, synchronousFull: config.syncCommits,
            retainedConsensusBlocks: config.consensusBlocksKept, mmapBytes: config.sqliteMmapMiB << 20)
        try store.bindGenesis(hash: genesisHash, chainId: genesis.chainId)
        let registry = ContractRegistry(contracts)
        configSource = try ConfigSource(initial: genesis.initialConfig)
        let stored = try configSource.config(in: store)
        currentConfig = Mutex(stored)
        // A node outside the validator set in force follows the chain by block sync.
        guard stored.validators.contains(where: { $0.nodeId == config.nodeId }) || !config.syncFrom.isEmpty else {
            throw ChainError(
                .notAValidator,
                "node \(config.nodeId) is not a validator of chain \(genesis.chainId), and has no syncFrom sources to observe from"
            )
        }
        _ = try configSource.membership(for: stored)
        verifier = TransactionVerifier(
            chainId: genesis.chainId, memberships: configSource.memberships, registry: registry,
            maxBodyBytes: config.maxBodyBytes, timestampTolerance: config.timestampToleranceMs,
            earliestTimestamp: try store.snapshotEarliestTimestamp() ?? Int64.min)
        mempool = Mempool(capacity: config.mempoolCapacity)
        commitRate =
            config.mempoolQueueSeconds > 0
            ? CommitRate(
                queueSeconds: min(config.mempoolQueueSeconds, 3_600), floor: min(config.mempoolCapacity, config.maxBlockTxs))
            : nil
        executor = BlockExecutor(registry: registry, configSource: configSource, hasher: genesis.suite.hasher)
        snapshots =
            config.snapshotInterval > 0
            ? SnapshotShelf(
                directory: URL(fileURLWithPath: databasePath + ".snapshots"), keep: config.snapshotKeep,
                timestampToleranceMs: config.timestampToleranceMs) : nil
    }

    /// The chain's hash function (SHA-256, or SM3 on an sm2 chain).
    public var hasher: ChainHasher { genesis.suite.hasher }

    /// The chain configuration in force after the last committed block.
    public var chainConfig: ChainConfig { currentConfig.withLock { $0 } }

    /// Calls `listener` with the new configuration after each block that changed it.
    public func onConfigChange(_ listener: @escaping @Sendable (ChainConfig) -> Void) {
        configListeners.withLock { $0.append(ConfigListener(call: listener)) }
    }

    /// Reloads the configuration after a block that wrote it: admission's membership follows at
    /// once, then the listeners (peer network, consensus, status). When the validator set changed,
    /// this node, if it was a validator of the set before, signs the epoch change for light clients.
    func configChanged() throws {
        let previous = chainConfig
        let fresh = try configSource.config(in: store)
        _ = try configSource.membership(for: fresh)
        epochCache.withLock { $0 = nil }
        finalityCache.withLock { $0.removeAll() }
        currentConfig.withLock { $0 = fresh }
        logger.info("chain configuration changed", metadata: ["version": "\(fresh.version)", "epoch": "\(fresh.epoch)"])
        for l in configListeners.withLock({ $0 }) { l.call(fresh) }
        if fresh.epoch != previous.epoch, let change = try epochChange(fresh.epoch),
            previous.validators.contains(where: { $0.nodeId == config.nodeId })
        {
            let signature = ValidatorSignature(validator: config.nodeId, signature: try nodeKey.sign(change.signingMessage))
            try store.addEpochSignature(signature, epoch: change.epoch)
            for l in epochListeners.withLock({ $0 }) { l.call(change, signature) }
        }
    }

    struct EpochListener: Sendable {
        let call: @Sendable (EpochChange, ValidatorSignature) -> Void
    }
    let epochListeners = Mutex<[EpochListener]>([])

    /// Calls `listener` with this node's signature of each epoch change it signs (consensus
    /// gossips it to the other validators).
    public func onEpochSigned(_ listener: @escaping @Sendable (EpochChange, ValidatorSignature) -> Void) {
        epochListeners.withLock { $0.append(EpochListener(call: listener)) }
    }

    /// The statement of the change to `epoch` (from governance's epoch record), nil when unknown.
    public func epochChange(_ epoch: UInt64) throws -> EpochChange? {
        guard let e = try epochs().first(where: { $0.epoch == epoch }) else { return nil }
        return EpochChange(
            chainId: genesis.chainId, epoch: e.epoch, firstHeight: e.firstHeight,
            validators: try e.validators.map {
                EpochChange.Member(
                    nodeId: $0.nodeId, publicKey: try KeyPEM.publicKey(certificatePEM: $0.certificate, suite: genesis.suite))
            })
    }

    /// Stores another validator's signature of an epoch change after checking it against the set
    /// before that change; false when it does not verify.
    @discardableResult
    public func addEpochSignature(_ signature: ValidatorSignature, epoch: UInt64) throws -> Bool {
        if try store.epochSignatures(epoch: epoch).contains(where: { $0.validator == signature.validator }) { return true }
        guard epoch > 0, let change = try epochChange(epoch),
            let key = try finalityCheck(forHeight: change.firstHeight - 1).keys[signature.validator],
            genesis.suite.verify(signature: signature.signature, message: change.signingMessage, publicKey: key)
        else { return false }
        try store.addEpochSignature(signature, epoch: epoch)
        return true
    }

    /// Epoch changes this node holds fewer than a quorum of signatures of (the set before each);
    /// an observer fetches those from its sync source.
    public func epochsLackingSignatures() throws -> [UInt64] {
        try epochs().filter { $0.epoch > 0 }.compactMap { e in
            let check = try finalityCheck(forHeight: e.firstHeight - 1)
            return try store.epochSignatures(epoch: e.epoch).count < check.quorum ? e.epoch : nil
        }
    }

    /// The epoch changes a proof of a block at `height` needs, oldest first, as JSON.
    public func epochProof(forHeight height: UInt64) throws -> [JSONValue] {
        try epochs().filter { $0.firstHeight <= height }.compactMap { e in
            try epochChange(e.epoch).map { $0.json(signatures: try store.epochSignatures(epoch: e.epoch)) }
        }
    }

    /// Node clock, unix milliseconds.
    public static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Verifies a transaction and admits it to the mempool.
    @discardableResult
    public func submit(_ tx: SignedTransaction, nowMillis: Int64 = ChainNode.nowMillis()) throws(ChainError)
        -> VerifiedTransaction
    {
        try submit([tx], nowMillis: nowMillis)[0].get()
    }

    /// Verifies transactions and admits them to the mempool, each as `submit(_:nowMillis:)` would
    /// alone and in order, with one batch check of their signatures and one replay lookup in the
    /// store. When the mempool has no room, all are refused before they cost a verification.
    public func submit(_ txs: [SignedTransaction], nowMillis: Int64 = ChainNode.nowMillis())
        -> [Result<VerifiedTransaction, ChainError>]
    {
        do throws(ChainError) {
            try mempool.checkRoom()
        } catch {
            return txs.map { _ in .failure(error) }
        }
        var outcomes = verifier.verify(txs, nowMillis: nowMillis)
        let verified = outcomes.compactMap { try? $0.get() }
        let committed: Set<Hash256>
        do {
            committed = try store.committedIDs(among: verified.map { ($0.id, $0.body.timestamp) })
        } catch {
            let failure = ChainError(.storageUnavailable, "cannot check for replay: \(error)")
            return outcomes.map { $0.flatMap { _ in .failure(failure) } }
        }
        for (i, outcome) in outcomes.enumerated() {
            guard case .success(let v) = outcome else { continue }
            do throws(ChainError) {
                guard !committed.contains(v.id) else {
                    throw ChainError(.duplicateTx, "transaction \(v.id.hex) is already committed")
                }
                try mempool.add(v)
                admissionListener.withLock { $0 }?.call(v.transaction)
            } catch {
                outcomes[i] = .failure(error)
            }
        }
        return outcomes
    }

    /// Admits a transaction gossiped by another validator: verified like any other, and silently
    /// ignored when it is known, committed, invalid or the mempool is at capacity (the sender has it).
    public func admitGossiped(_ tx: SignedTransaction, nowMillis: Int64 = ChainNode.nowMillis()) {
        admitGossiped([tx], nowMillis: nowMillis)
    }

    /// Admits a batch of gossiped transactions as `admitGossiped(_:nowMillis:)` does each one, with
    /// one replay lookup in the store for the whole batch.
    public func admitGossiped(_ txs: [SignedTransaction], nowMillis: Int64 = ChainNode.nowMillis()) {
        // Bounded by the pool's capacity, not by the admission limit that refuses clients
        // (`Mempool.addGossiped`). When the pool is at capacity, gossip is dropped before it costs
        // a verification (the sender keeps it).
        guard mempool.hasRoomForGossip else { return }
        // Their signatures are checked together (`TransactionVerifier.verify(_:nowMillis:)` for many).
        let unknown = txs.filter { !mempool.contains($0.id) }
        let fresh = verifier.verify(unknown, nowMillis: nowMillis).compactMap { try? $0.get() }
        guard !fresh.isEmpty, let committed = try? store.committedIDs(among: fresh.map { ($0.id, $0.body.timestamp) }) else {
            return
        }
        for verified in fresh where !committed.contains(verified.id) {
            try? mempool.addGossiped(verified)
        }
    }

    /// How far past the timestamp tolerance a waiting transaction is reported expired (ms): 2 s, or
    /// a quarter of the tolerance when that is under 8 s.
    public var expiryMarginMs: Int64 { min(2_000, max(0, config.timestampToleranceMs) / 4) }

    /// How long before the end of the timestamp tolerance a leader stops proposing a transaction
    /// (ms): 0.5 s, or an eighth of the tolerance when that is under 4 s. It covers the distance
    /// between the clock reading and the block's timestamp. Together with `expiryMarginMs` it is
    /// the gap between the last proposal that may carry a transaction and its report as expired,
    /// which covers clock differences between validators and proposals still on their way: a
    /// transaction reported expired is not proposed afterwards.
    public var proposalMarginMs: Int64 { min(500, max(0, config.timestampToleranceMs) / 8) }

    /// The earliest transaction timestamp a block proposed at `nowMillis` carries: a transaction
    /// within `proposalMarginMs` of leaving the tolerance waits to be reported expired instead.
    public func proposableAfter(nowMillis: Int64) -> Int64 {
        nowMillis - config.timestampToleranceMs + proposalMarginMs
    }

    /// Drops from the mempool the transactions whose timestamp is more than the tolerance and
    /// `expiryMarginMs` before `nowMillis`, except those in `keeping` (held by uncommitted blocks,
    /// which may still commit them); the mempool remembers them as expired, and their waiters get
    /// `tx_expired` at once. Under the production lock, so no block commits halfway through; a
    /// transaction found committed is never reported expired. Returns the ids reported expired.
    @discardableResult
    public func expireStale(nowMillis: Int64 = ChainNode.nowMillis(), keeping: () -> Set<Hash256> = { [] }) -> [Hash256] {
        let cutoff = nowMillis - config.timestampToleranceMs - expiryMarginMs
        // Most sweeps find nothing: they do not wait for a block being committed.
        guard mempool.holdsAny(before: cutoff) else { return [] }
        return production.withLock { _ -> [Hash256] in
            let stale = mempool.expire(before: cutoff, keeping: keeping())
            guard !stale.isEmpty else { return [] }
            // A committed transaction left the mempool with its commit; this is the belt to that
            // brace. When the store cannot say, no waiter is told anything (they time out as before).
            guard let committed = try? store.committedIDs(among: stale) else { return [] }
            let expired = stale.filter { !committed.contains($0) }
            notifier.expire(expired)
            metrics.expired(expired.count)
            return expired
        }
    }

    /// Cuts, executes, seals and commits one block from up to `maxBlockTxs` waiting transactions.
    /// Returns the committed height, or nil when the mempool was empty.
    @discardableResult
    public func produceBlock(nowMillis: Int64 = ChainNode.nowMillis()) throws -> UInt64? {
        try production.withLock { _ in
            let batch = mempool.peek(max: config.maxBlockTxs)
            guard !batch.isEmpty else { return nil }
            return try commitBlock(batch, proposer: config.nodeId, timestamp: nowMillis, consensusBlock: nil)?.header.height
        }
    }

    /// Executes `candidates` as the next block and commits it in one SQLite transaction, sealed with
    /// this node's signature; under BFT, also records the consensus block it comes from, and the
    /// other validators' finality signatures of earlier blocks queued since the last commit
    /// (`finality`, written only if this block is).
    ///
    /// Transactions already committed are left out (a resubmission can slip in between admission's
    /// replay check and its original's commit; every node leaves out the same ones), and anyone
    /// waiting on them is told how the original ended. Returns nil when nothing is left to commit.
    public func commitBlock(
        _ candidates: [VerifiedTransaction], proposer: String, timestamp: Int64,
        consensusBlock: (id: Hash256, height: UInt64, bytes: [UInt8])?,
        finality: [(height: UInt64, signature: ValidatorSignature)] = []
    ) throws -> Block? {
        let already = try store.committedIDs(among: candidates.map { ($0.id, $0.body.timestamp) })
        var seen = Set<Hash256>()
        let txs = candidates.filter { !already.contains($0.id) && seen.insert($0.id).inserted }
        if !already.isEmpty {
            mempool.removeCommitted(already)
            notifier.notify(
                try already.compactMap { id in
                    try store.place(of: id).map {
                        (id, CommitOutcome(height: $0.height, index: $0.index, error: $0.result.error))
                    }
                })
        }
        guard !txs.isEmpty else { return nil }
        let tip = try store.tip()
        let height = (tip?.height ?? 0) + 1
        let time = max(timestamp, (tip?.timestamp ?? 0) + 1)
        let previousState = tip?.stateHash ?? StateHash.genesis(genesisHash, hasher: hasher)
        let header = BlockHeader(
            chainId: genesis.chainId, height: height, parentHash: tip?.hash ?? .zero, timestamp: time, proposer: proposer,
            txCount: UInt32(txs.count), txRoot: Block.txRoot(txs.map(\.transaction), hasher: hasher), execHeight: height - 1,
            resultRoot: tip?.resultRoot ?? TransactionResult.root([], hasher: hasher), stateHash: previousState,
            hasher: hasher)
        let block = Block(header: header, transactions: txs.map(\.transaction), signatures: [try sign(header)])
        try executeAndStore(block, txs, previousState: previousState, consensusBlock: consensusBlock, finality: finality)
        logger.debug("committed block", metadata: ["height": "\(height)", "txs": "\(txs.count)"])
        return block
    }

    /// Committed blocks from `height` on that already carry a quorum of finality signatures, at
    /// most `limit` of them and about `maxBytes` of transactions (at least one block when any is final).
    /// Every stored signature was verified before it was stored (queued by
    /// `ConsensusService.addFinality` after its check, the node's own, or the valid ones of a certified block), so
    /// serving a block counts signers without verifying them again.
    public func finalBlocks(from height: UInt64, limit: Int, maxBytes: Int = 4 << 20) throws -> [Block] {
        var blocks: [Block] = []
        var bytes = 0
        var h = height
        while blocks.count < limit, bytes < maxBytes, let b = try store.fullBlock(at: h) {
            guard try finalityCheck(forHeight: h).isFinal(stored: b.signatures) else { break }
            blocks.append(b)
            bytes += b.transactions.reduce(256) { $0 + $1.body.count + $1.signature.count + $1.signerCertificate.count + 12 }
            h += 1
        }
        return blocks
    }

    /// Verifies a committed block fetched from a peer and, when it is final and consistent with
    /// this node's own chain, executes and commits it as given (header and signatures).
    ///
    /// Checks, in order: chain id; it extends the stored tip; a quorum of validators signed it
    /// (`no_quorum`); its header carries the result root and state hash this node computed for the
    /// previous block (`sync_diverged` otherwise: this node's execution disagrees with the
    /// quorum's); its transactions match the header's count and root and repeat none committed;
    /// each transaction's signature and certificate verify. Nothing is stored unless every check passes.
    public func commitCertified(_ block: Block) throws {
        try production.withLock { _ in
            let h = block.header
            let tip = try store.tip()
            guard h.chainId == genesis.chainId else {
                throw ChainError(.wrongChain, "block is of chain \"\(h.chainId)\", this is \"\(genesis.chainId)\"")
            }
            guard h.height == (tip?.height ?? 0) + 1, h.parentHash == (tip?.hash ?? .zero), h.execHeight == h.height - 1 else {
                throw ChainError(.notNextBlock, "block \(h.height) does not extend the stored tip \(tip?.height ?? 0)")
            }
            guard h.timestamp > (tip?.timestamp ?? Int64.min) else {
                throw ChainError(.badBlock, "block \(h.height) is not later than its parent")
            }
            // Only the signatures that verify are stored with the block; they must be a quorum of
            // the validators in force at the start of this block.
            let signatures = try finalityCheck(forHeight: h.height).verify(h, block.signatures)
            let expectedResults = tip?.resultRoot ?? TransactionResult.root([], hasher: hasher)
            let expectedState = tip?.stateHash ?? StateHash.genesis(genesisHash, hasher: hasher)
            guard h.resultRoot == expectedResults, h.stateHash == expectedState else {
                throw ChainError(
                    .syncDiverged,
                    "block \(h.height) certifies state \(h.stateHash.hex) and results \(h.resultRoot.hex) for block \(h.height - 1); this node computed \(expectedState.hex) and \(expectedResults.hex)"
                )
            }
            guard Int(h.txCount) == block.transactions.count, Block.txRoot(block.transactions, hasher: hasher) == h.txRoot else {
                throw ChainError(.badBlock, "block \(h.height)'s transactions do not match its header")
            }
            var ids = Set<Hash256>()
            guard block.transactions.allSatisfy({ ids.insert($0.id).inserted }),
                try store.committedIDs(among: Array(ids)).isEmpty
            else {
                throw ChainError(.badBlock, "block \(h.height) repeats a transaction")
            }
            let txs = try block.transactions.map { tx in try certifiedTransaction(tx, at: h.timestamp) }
            try executeAndStore(
                Block(header: h, transactions: block.transactions, signatures: signatures), txs, previousState: expectedState,
                consensusBlock: nil)
        }
    }

    /// Executes `block`'s transactions on the stored state, commits block, results and writes in one
    /// SQLite transaction, and tells the mempool and anyone waiting.
    func executeAndStore(
        _ block: Block, _ txs: [VerifiedTransaction], previousState: Hash256,
        consensusBlock: (id: Hash256, height: UInt64, bytes: [UInt8])?,
        finality: [(height: UInt64, signature: ValidatorSignature)] = []
    ) throws {
        let h = block.header
        let outcome = try metrics.timed(metrics.blockCommit) {
            // One read transaction for the block's reads (the previous block is committed).
            let outcome = try store.withStateReadTransaction { state in
                try executor.execute(txs, height: h.height, time: h.timestamp, state: state, previousStateHash: previousState)
            }
            try metrics.timed(metrics.sqliteCommit) {
                try store.commit(
                    BlockCommit(
                        block: block, transactions: outcome.transactions, writes: outcome.writes,
                        resultRoot: outcome.resultRoot, stateHash: outcome.stateHash, consensusBlock: consensusBlock,
                        timestamps: txs.map(\.body.timestamp), finality: finality))
            }
            return outcome
        }
        metrics.committed(transactions: txs.count)
        metrics.committed(ids: txs.map(\.id))
        if let snapshots, h.height % UInt64(config.snapshotInterval) == 0 { snapshot(at: h.height, on: snapshots) }
        mempool.removeCommitted(txs.map(\.id))
        if let commitRate { mempool.setAdmissionLimit(commitRate.record(txs.count, nowMillis: Self.nowMillis())) }
        if outcome.writes.contains(where: { $0.key == ConfigSource.stateKey }) { try configChanged() }
        notifier.notify(
            outcome.transactions.map {
                ($0.transaction.id, CommitOutcome(height: h.height, index: $0.index, error: $0.result.error))
            })
    }

    /// A transaction of a certified block, with its signer. Validators verified it (at admission or
    /// at the block's time) before voting; here the signature and certificate are checked again at
    /// the block's time, and only the clock-distance rule of admission is not applied.
    func certifiedTransaction(_ tx: SignedTransaction, at time: Int64) throws -> VerifiedTransaction {
        if let v = try? verifier.verify(tx, nowMillis: time) { return v }
        let body = try TransactionBody.parse(tx.body)
        // The certificate's issuer as of the block's start (the executor applies that
        // configuration's role policy, revocations and validity to it).
        let membership = try configSource.membership(for: try configSource.config(in: store))
        let (signer, publicKey) = try membership.identify(certificateDER: tx.signerCertificate)
        guard membership.suite.verify(signature: tx.signature, message: tx.body, publicKey: publicKey, ed25519: .cofactored)
        else {
            throw ChainError(.badSignature, "a transaction of a certified block does not verify")
        }
        return VerifiedTransaction(transaction: tx, body: body, signer: signer)
    }

    /// Prunes the transaction bodies of blocks older than the retention window
    /// (`retainBlockBodies` heights below the tip), a bounded batch of heights per SQLite
    /// transaction so that block commits interleave. Returns the height below which bodies are
    /// gone afterwards. Blocking: call it off the cooperative pool (`BodyPruner`).
    @discardableResult
    public func pruneBodiesDue(maxBlocksPerTransaction: Int = 256) throws -> UInt64 {
        var done = try store.bodiesPrunedBelow()
        guard config.retainBlockBodies > 0, let tip = try store.tip()?.height,
            tip > UInt64(config.retainBlockBodies)
        else { return done }
        let below = tip - UInt64(config.retainBlockBodies) + 1
        while done < below {
            let next = try store.pruneBodies(below: below, maxBlocks: maxBlocksPerTransaction)
            guard next > done else { break }
            done = next
        }
        return done
    }

    /// Freezes the state just committed at `height` (cheap, still under the production lock, so no
    /// later block is in it) and writes and signs the snapshot on the shelf's queue.
    func snapshot(at height: UInt64, on shelf: SnapshotShelf) {
        guard shelf.beginWriting() else {
            logger.warning(
                "state snapshot skipped: the previous one is still being written (raise snapshotInterval)",
                metadata: ["height": "\(height)"])
            return
        }
        let frozen: FrozenState
        do {
            frozen = try store.freeze()
        } catch {
            shelf.endWriting()
            logger.warning("cannot freeze the state for a snapshot", metadata: ["height": "\(height)", "reason": "\(error)"])
            return
        }
        let key: SigningKey? = isObserver ? nil : nodeKey
        let (chainId, nodeId, logger) = (genesis.chainId, config.nodeId, logger)
        shelf.queue.async {
            defer { shelf.endWriting() }
            do {
                let m = try shelf.write(frozen, chainId: chainId, key: key, validator: nodeId)
                logger.info(
                    "state snapshot written",
                    metadata: [
                        "height": "\(m.height)", "entries": "\(m.entryCount)", "committed": "\(m.committedCount)",
                        "chunks": "\(m.chunkCount)",
                    ])
            } catch {
                logger.warning("state snapshot failed", metadata: ["height": "\(height)", "reason": "\(error)"])
            }
        }
    }

    /// The newest snapshot this node offers, as `GET /v1/snapshots/latest` answers it: the
    /// manifest and the header of its block (base64), the signatures this node holds of each, the
    /// epoch changes up to its height (as in proofs); nil when there is none. A snapshot of the
    /// first version left on the shelf by an earlier version of the node is not offered.
    public func snapshotOffer() throws -> JSONValue? {
        guard let shelf = snapshots,
            let manifest = shelf.heights().reversed().lazy.compactMap({ h in (try? shelf.manifest(height: h)) ?? nil }).first,
            let block = try store.block(at: manifest.height)
        else { return nil }
        let height = manifest.height
        func list(_ sigs: [ValidatorSignature]) -> JSONValue {
            .array(
                sigs.map {
                    .object([
                        "validator": .string($0.validator), "signature": .string(Data($0.signature).base64EncodedString()),
                    ])
                })
        }
        return .object([
            "height": .int(Int64(height)), "digest": .string(manifest.digest(hasher: hasher).hex),
            "entries": .int(Int64(manifest.entryCount)), "chunks": .int(manifest.chunkCount),
            "committedIds": .int(Int64(manifest.committedCount)),
            "manifest": .string(Data(manifest.encoded).base64EncodedString()),
            "header": .string(Data(block.header.encoded).base64EncodedString()),
            "signatures": list(shelf.signatures(height: height)), "headerSignatures": list(block.signatures),
            "epochs": .array(try epochProof(forHeight: height)),
        ])
    }

    /// Signs a header as this validator (finality signature).
    public func sign(_ header: BlockHeader) throws -> ValidatorSignature {
        ValidatorSignature(validator: config.nodeId, signature: try nodeKey.sign(header.signingMessage))
    }

    /// The node's signing key (for consensus messages).
    public var signingKey: SigningKey { nodeKey }
}
