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
    /// Contract execution.
    public let executor: BlockExecutor
    let nodeKey: SigningKey
    let logger: Logger
    let production = Mutex<Void>(())
    let lastCommit = Mutex<(height: UInt64, at: Int64)>((0, 0))

    /// The chain id.
    public var chainId: String { genesis.chainId }

    /// Opens the node's store and binds it to the genesis.
    public init(
        genesis: Genesis, config: NodeConfig, databasePath: String, nodeKey: SigningKey, contracts: [any Contract],
        logger: Logger
    ) throws {
        self.genesis = genesis
        self.genesisHash = try genesis.hash
        self.config = config
        self.nodeKey = nodeKey
        self.logger = logger
        guard genesis.validators.contains(where: { $0.nodeId == config.nodeId }) else {
            throw ChainError("not_a_validator", "node \(config.nodeId) is not a validator of chain \(genesis.chainId)")
        }
        guard nodeKey.suite == genesis.suite else {
            throw ChainError("wrong_suite", "node key is \(nodeKey.suite.rawValue); the chain uses \(genesis.suite.rawValue)")
        }
        store = try BlockStore(path: databasePath, synchronousFull: config.syncCommits)
        try store.bindGenesis(hash: genesisHash, chainId: genesis.chainId)
        let registry = ContractRegistry(contracts)
        verifier = TransactionVerifier(
            chainId: genesis.chainId, membership: try genesis.membership(), registry: registry,
            maxBodyBytes: config.maxBodyBytes, timestampTolerance: config.timestampToleranceMs)
        mempool = Mempool(capacity: config.mempoolCapacity)
        executor = BlockExecutor(registry: registry)
        if let tip = try store.tip() { lastCommit.withLock { $0 = (tip.height, tip.timestamp) } }
    }

    /// Node clock, unix milliseconds.
    public static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Verifies a transaction and admits it to the mempool.
    @discardableResult
    public func submit(_ tx: SignedTransaction, nowMillis: Int64 = ChainNode.nowMillis()) throws(ChainError)
        -> VerifiedTransaction
    {
        let verified = try verifier.verify(tx, nowMillis: nowMillis)
        let committed: Bool
        do {
            committed = try store.committedIDs(among: [tx.id]).contains(tx.id)
        } catch {
            throw ChainError("storage_unavailable", "cannot check for replay: \(error)")
        }
        guard !committed else { throw ChainError("duplicate_tx", "transaction \(tx.id.hex) is already committed") }
        try mempool.add(verified)
        return verified
    }

    /// Cuts, executes, seals and commits one block from up to `maxBlockTxs` waiting transactions.
    /// Returns the committed height, or nil when the mempool was empty.
    @discardableResult
    public func produceBlock(nowMillis: Int64 = ChainNode.nowMillis()) throws -> UInt64? {
        try production.withLock { _ in
            let batch = mempool.take(max: config.maxBlockTxs)
            guard !batch.isEmpty else { return nil }
            // A resubmission can slip in between admission's replay check and the commit of its
            // original: drop it here, and tell anyone waiting on it how the original ended.
            let already = try store.committedIDs(among: batch.map(\.id))
            let txs = already.isEmpty ? batch : batch.filter { !already.contains($0.id) }
            if !already.isEmpty {
                mempool.release(Array(already))
                notifier.notify(
                    try already.compactMap { id in
                        try store.transaction(id).map {
                            (id, CommitOutcome(height: $0.height, index: $0.index, error: $0.result.error))
                        }
                    })
            }
            guard !txs.isEmpty else { return nil }
            let tip = try store.tip()
            let height = (tip?.height ?? 0) + 1
            let time = max(nowMillis, (tip?.timestamp ?? 0) + 1)
            let previousState = tip?.stateHash ?? StateHash.genesis(genesisHash)
            let header = BlockHeader(
                chainId: genesis.chainId, height: height, parentHash: tip?.hash ?? .zero, timestamp: time,
                proposer: config.nodeId, txCount: UInt32(txs.count), txRoot: Block.txRoot(txs.map(\.transaction)),
                execHeight: height - 1, resultRoot: tip?.resultRoot ?? TransactionResult.root([]),
                stateHash: previousState)
            let signature = ValidatorSignature(validator: config.nodeId, signature: try nodeKey.sign(header.signingMessage))
            let block = Block(header: header, transactions: txs.map(\.transaction), signatures: [signature])
            let outcome = try executor.execute(txs, height: height, time: time, state: store, previousStateHash: previousState)
            try store.commit(
                BlockCommit(
                    block: block, transactions: outcome.transactions, writes: outcome.writes,
                    resultRoot: outcome.resultRoot, stateHash: outcome.stateHash))
            lastCommit.withLock { $0 = (height, time) }
            mempool.release(txs.map(\.id))
            notifier.notify(
                outcome.transactions.map {
                    ($0.transaction.id, CommitOutcome(height: height, index: $0.index, error: $0.result.error))
                })
            logger.debug("committed block", metadata: ["height": "\(height)", "txs": "\(txs.count)"])
            return height
        }
    }

    /// Height and time of the last commit.
    public var lastCommitInfo: (height: UInt64, at: Int64) { lastCommit.withLock { $0 } }
}
