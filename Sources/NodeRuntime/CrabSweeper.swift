import ChainCore
import CrabTraceContract
import Identity
import Logging
import Node
import ServiceLifecycle

/// Every `interval`, submits `crab.sweep` with the coupons due for it (expired live coupons,
/// redeemed coupons overdue for shipping), signed with the node's identity (role `node`).
///
/// Runs on one node only, so that sweeps are not duplicated: the validator whose node id sorts
/// first (`isSweeper`). Nothing is submitted when there is no candidate, or while this node's
/// previous sweep is still waiting in the mempool.
public struct CrabSweeper: Service {
    let node: ChainNode
    let identity: SigningIdentity
    let interval: Duration
    let logger: Logger

    /// Creates the sweeper of `node`, signing as `identity`.
    public init(node: ChainNode, identity: SigningIdentity, interval: Duration, logger: Logger) {
        self.node = node
        self.identity = identity
        self.interval = interval
        self.logger = logger
    }

    /// True when `node` is the one that sweeps: a validator whose node id sorts first among the genesis validators.
    public static func isSweeper(_ node: ChainNode) -> Bool {
        !node.isObserver && node.genesis.validators.map(\.nodeId).min() == node.config.nodeId
    }

    public func run() async throws {
        logger.info("crab sweeper started", metadata: ["interval": "\(interval)"])
        var pending: Hash256?
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            pending = sweepOnce(pending: pending)
        }
        logger.info("crab sweeper stopped")
    }

    /// One sweep: submits `crab.sweep` with the coupons due at `now` (the node clock unless told
    /// otherwise), unless `pending` (the previous sweep) is still in the mempool. Returns the id of
    /// the sweep waiting, if any. The contract checks each coupon again at the block's time.
    @discardableResult
    public func sweepOnce(pending: Hash256? = nil, now: Int64 = ChainNode.nowMillis()) -> Hash256? {
        if let pending, node.mempool.contains(pending) { return pending }
        do {
            let queries = CrabQueries(state: node.store, config: CrabTraceConfig(resolver: node.config.resolver))
            let candidates = try queries.sweepCandidates(now: now)
            guard !candidates.isEmpty else { return nil }
            let tx = try identity.transaction(chain: node.chainId, call: CrabCall.sweep(gcns: candidates))
            try node.submit(tx)
            logger.info("crab sweep submitted", metadata: ["txid": "\(tx.txid)", "coupons": "\(candidates.count)"])
            return tx.id
        } catch {
            logger.warning("crab sweep failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
