import API
import Logging
import ServiceLifecycle

/// Runs the hosting org's replication (``HostingReplica``) every `interval`: applies the records
/// committed since the last round and publishes this node's changes not yet on chain.
struct HostingService: Service {
    let replica: HostingReplica
    let interval: Duration
    let logger: Logger

    func run() async throws {
        logger.info("hosting replication started", metadata: ["org": "\(replica.org)"])
        var refused = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let (applied, published) = try await replica.syncOnce()
                if applied > 0 || published > 0 {
                    logger.debug("hosting records", metadata: ["applied": "\(applied)", "published": "\(published)"])
                }
            } catch {
                logger.warning("hosting replication failed", metadata: ["error": "\(error)"])
            }
            if replica.refused > refused {
                refused = replica.refused
                logger.warning(
                    "hosting records of this org that do not open under this node's hosting key (copy the org's hosting-key to every node of the org)",
                    metadata: ["refused": "\(refused)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
        logger.info("hosting replication stopped")
    }
}
