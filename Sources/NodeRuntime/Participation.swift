import ChainCore
import Consensus
import Foundation
import Identity
import Logging
import Node
import P2P
import ServiceLifecycle
import Storage
import Synchronization

/// How a node of a multi-validator chain takes part, as the chain configuration says: a node
/// outside the validator set follows the chain by block sync; once governance makes it a
/// validator (it executed the block that added it), it stops syncing and runs the peer network
/// and consensus from the epoch that block started. A validator that governance removes goes on
/// following its epochs without voting.
final class Participation: Service, Sendable {
    let node: ChainNode
    let home: URL
    let sync: BlockSyncService?
    let logger: Logger
    let consensus = Mutex<ConsensusService<PeerTransport>?>(nil)

    init(node: ChainNode, home: URL, sync: BlockSyncService?, logger: Logger) {
        self.node = node
        self.home = home
        self.sync = sync
        self.logger = logger
    }

    /// Consensus health, once this node runs consensus.
    var status: ConsensusStatus? { consensus.withLock { $0 }?.status }

    func run() async throws {
        if node.isObserver {
            guard let sync else {
                throw ChainError(.notAValidator, "\(node.config.nodeId) is not a validator and has no syncFrom sources")
            }
            let node = self.node
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await sync.run() }
                group.addTask {
                    while node.isObserver, !Task.isCancelled, !Task.isShuttingDownGracefully {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
            guard !Task.isShuttingDownGracefully, !node.isObserver else { return }
            let height = try node.store.tip()?.height ?? 0
            logger.info(
                "this node is now a validator: consensus takes over from block sync",
                metadata: ["epoch": "\(node.chainConfig.epoch)", "height": "\(height)"])
        }
        let config = node.config
        let chain = node.chainConfig
        let network = try PeerNetwork(
            configuration: PeerNetworkConfiguration(
                chainId: node.chainId, nodeId: config.nodeId,
                listenAddress: try PeerAddress(host: config.p2pListenHost, port: config.p2pPort)),
            nodeKey: node.signingKey,
            certificatePEM: String(contentsOf: home.appendingPathComponent("node.cert.pem"), encoding: .utf8),
            caCertificatesPEM: chain.orgs.flatMap(\.roots),
            validators: try chain.validators.map {
                try ValidatorPeer(nodeId: $0.nodeId, certificatePEM: $0.certificate, address: $0.p2pAddress)
            },
            logger: logger)
        var consensusConfig = ConsensusConfig()
        consensusConfig.baseTimeoutMs = chain.parameters.roundTimeoutMs ?? config.consensusTimeoutMs
        consensusConfig.minBlockIntervalMs = config.minBlockIntervalMs
        let service = try ConsensusService(
            node: node, transport: PeerTransport(network: network), config: consensusConfig,
            emptyBlockDelay: .milliseconds(config.emptyBlockDelayMs), voteFence: try VoteFence.load(home: home), logger: logger)
        consensus.withLock { $0 = service }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await network.run() }
            group.addTask { try await service.run() }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
