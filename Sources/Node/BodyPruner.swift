import ChainCore
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Prunes transaction bodies older than the node's retention window (`retainBlockBodies`) every
/// `interval`, off the cooperative pool (the SQLite writes block a thread) and off the commit path.
public struct BodyPruner: Service {
    let node: ChainNode
    let interval: Duration
    let logger: Logger

    /// The pruner of `node`.
    public init(node: ChainNode, interval: Duration = .seconds(10), logger: Logger) {
        self.node = node
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        logger.info("body pruning started", metadata: ["retainBlockBodies": "\(node.config.retainBlockBodies)"])
        var last = (try? node.store.bodiesPrunedBelow()) ?? 1
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let below = try await pruneOffPool()
                if below > last {
                    logger.debug("pruned block bodies", metadata: ["below": "\(below)"])
                    last = below
                }
            } catch {
                logger.warning("body pruning failed", metadata: ["reason": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        logger.info("body pruning stopped")
    }

    private func pruneOffPool() async throws -> UInt64 {
        let node = self.node
        return try await OffPool.run { try node.pruneBodiesDue() }
    }
}
