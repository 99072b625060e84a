import API
import Accounts
import ChainCore
import Consensus
import CrabTraceContract
import EPCISContract
import EvidenceContract
import Execution
import Foundation
import Identity
import Logging
import Node
import P2P
import ServiceLifecycle
import Storage
import UnixSignals

/// Assembles a node from its home directory (configuration → services → `ServiceGroup`) and
/// serves until SIGINT/SIGTERM.
public enum NodeRunner {
    /// Runs the validator or observer whose home is `home`; `apiHost`/`apiPort` override its config.
    public static func run(home: URL, apiHost: String?, apiPort: Int?) async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return h
        }
        let logger = Logger(label: "xiangchain")
        let nodeHome = try NodeHome(home)
        var config = nodeHome.config
        if let apiHost { config.apiHost = apiHost }
        if let apiPort { config.apiPort = apiPort }
        let genesis = nodeHome.genesis
        let node = try ChainNode(
            genesis: genesis, config: config, databasePath: nodeHome.databasePath, nodeKey: nodeHome.key,
            contracts: ChainContracts.all(config: config, genesis: genesis), logger: logger)
        // The node signs consumers' crab scans and complaints, and the periodic sweep, as itself (role node).
        let gateway = try CrabGateway.load(home: home)
        let height = try node.store.tip()?.height ?? 0
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        func add(_ service: some Service) {
            services.append(
                .init(
                    service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        var statusSource: (@Sendable () -> ConsensusStatus)?
        var sync: BlockSyncService?
        if node.isObserver {
            let service = BlockSyncService(
                node: node, sources: try config.syncFrom.map { try HTTPBlockSource($0) },
                interval: .milliseconds(config.syncIntervalMs), logger: logger)
            sync = service
            add(service)
        } else if genesis.validators.count == 1 {
            add(SoloProducer(node: node, logger: logger))
        } else {
            guard genesis.validators.contains(where: { $0.nodeId == config.nodeId }) else {
                throw ChainError(.notAValidator, "\(config.nodeId) is not a validator of this chain")
            }
            let listen = try PeerAddress(host: config.p2pListenHost, port: config.p2pPort)
            let network = try PeerNetwork(
                configuration: PeerNetworkConfiguration(chainId: genesis.chainId, nodeId: config.nodeId, listenAddress: listen),
                nodeKey: nodeHome.key,
                certificatePEM: String(contentsOf: home.appendingPathComponent("node.cert.pem"), encoding: .utf8),
                caCertificatesPEM: genesis.orgs.map(\.caCertificate),
                validators: try genesis.validators.map {
                    try ValidatorPeer(nodeId: $0.nodeId, certificatePEM: $0.certificate, address: $0.p2pAddress)
                },
                logger: logger)
            var consensusConfig = ConsensusConfig()
            consensusConfig.baseTimeoutMs = config.consensusTimeoutMs
            let consensus = try ConsensusService(
                node: node, transport: PeerTransport(network: network), config: consensusConfig,
                emptyBlockDelay: .milliseconds(config.emptyBlockDelayMs), logger: logger)
            statusSource = { consensus.status }
            add(network)
            add(consensus)
        }
        if config.sweepIntervalSeconds > 0, CrabSweeper.isSweeper(node) {
            add(
                CrabSweeper(
                    node: node, identity: gateway.identity, interval: .seconds(config.sweepIntervalSeconds), logger: logger))
        }
        // Console accounts: when the config names an account CA, or an accounts database exists.
        var console: ConsoleAccounts?
        if config.accountCA != nil || !config.hostedAccountCAs.isEmpty || AccountStore.exists(home: home) {
            let store = try AccountStore(home: home)
            // Audit entries are kept at least 183 days; older ones go at each start.
            if let pruned = try? store.auditLog.prune(), pruned > 0 {
                logger.info("pruned \(pruned) audit entries older than 183 days")
            }
            console = ConsoleAccounts(
                store: store,
                ca: try config.accountCA.map { try CertificateAuthority(directory: URL(fileURLWithPath: $0)) },
                hosted: try config.hostedAccountCAs.map { try CertificateAuthority(directory: URL(fileURLWithPath: $0)) })
        }
        var limits = ChainAPI.ServerLimits()
        limits.maxConnections = min(config.maxHTTPConnections, FileLimits.raiseSoftLimit() * 3 / 4)
        limits.idleTimeout = .seconds(max(1, config.httpIdleTimeoutSeconds))
        add(
            ChainAPI(node: node, consensus: statusSource, sync: sync, gateway: gateway, console: console).application(
                host: config.apiHost, port: config.apiPort, limits: limits, logger: logger))
        logger.info(
            "\(node.isObserver ? "observer" : "node") \(config.nodeId) of chain \(node.chainId) (\(genesis.validators.count) validators) at height \(height); API on http://\(config.apiHost):\(config.apiPort)"
        )
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
