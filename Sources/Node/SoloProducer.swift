import ChainCore
import Logging
import ServiceLifecycle

/// The block loop of a single-validator chain: every `blockIntervalMs` (or at once when a full
/// block is waiting) it commits a block from the mempool. Stops on graceful shutdown after the
/// block in progress.
public struct SoloProducer: Service {
    let node: ChainNode
    let logger: Logger

    /// Creates the producer for `node`.
    public init(node: ChainNode, logger: Logger) {
        self.node = node
        self.logger = logger
    }

    public func run() async throws {
        let interval = Duration.milliseconds(max(1, node.config.blockIntervalMs))
        logger.info("solo block production started", metadata: ["interval_ms": "\(node.config.blockIntervalMs)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if node.mempool.count < node.config.maxBlockTxs {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    break
                }
            }
            try await produceOffPool()
        }
        logger.info("solo block production stopped")
    }

    /// Block execution and the SQLite commit (with its fsync) block a thread; run them on a
    /// dispatch queue so the cooperative pool keeps serving API requests.
    private func produceOffPool() async throws {
        let node = self.node
        _ = try await OffPool.run { try node.produceBlock() }
    }
}
