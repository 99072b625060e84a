import ChainCore
import CrabTraceContract
import Identity
import Logging
import Node
import ServiceLifecycle

/// Every `interval`, submits `crab.sweep` with the coupons due for it (expired live coupons,
/// redeemed coupons overdue for shipping), signed with the node's identity (role `node`).
///
/// Runs on every validator, with failover rather than duplication: validators are ranked by node
/// id (the set in force), and the validator of rank k sweeps only coupons that have been due for
/// more than k failover delays (2 × `interval`). The first validator sweeps what falls due; when it
/// is down (or its sweeps do not commit), what it left is swept by the second one delay later, and
/// so on, so no periodic work depends on one node. Sweeps of two validators that meet are
/// harmless: the contract checks each coupon again at the block's time and skips what is no longer
/// due. Nothing is submitted when there is no candidate, or while this node's previous sweep is
/// still waiting in the mempool.
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

    /// True when `node` sweeps at all: a validator of the set in force (observers never do).
    public static func isSweeper(_ node: ChainNode) -> Bool { rank(node) != nil }

    /// This validator's place in the failover order: its position among the node ids of the
    /// validators in force, sorted; nil for an observer.
    public static func rank(_ node: ChainNode) -> Int? {
        node.chainConfig.validators.map(\.nodeId).sorted().firstIndex(of: node.config.nodeId)
    }

    /// How long a coupon may stay due before the next validator in the order sweeps it, ms.
    var failoverDelayMillis: Int64 { max(1, Int64(interval.components.seconds) * 2_000) }

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
    /// `rank` is this validator's place in the failover order (default: from the validators in
    /// force): it sweeps only what has been due for `rank` failover delays.
    @discardableResult
    public func sweepOnce(pending: Hash256? = nil, now: Int64 = ChainNode.nowMillis(), rank: Int? = nil) -> Hash256? {
        if let pending, node.mempool.contains(pending) { return pending }
        guard let rank = rank ?? Self.rank(node) else { return nil }
        do {
            let queries = CrabQueries(state: node.store, config: CrabTraceConfig(resolver: node.config.resolver))
            let candidates = try queries.sweepCandidates(now: now - Int64(rank) * failoverDelayMillis)
            guard !candidates.isEmpty else { return nil }
            let tx = try identity.transaction(chain: node.chainId, call: CrabCall.sweep(gcns: candidates))
            try node.submit(tx)
            logger.info(
                "crab sweep submitted",
                metadata: ["txid": "\(tx.txid)", "coupons": "\(candidates.count)", "rank": "\(rank)"])
            return tx.id
        } catch {
            logger.warning("crab sweep failed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
