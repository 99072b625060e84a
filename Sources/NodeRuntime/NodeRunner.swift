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
import NIOSSL
import Node
import P2P
import Prometheus
import ServiceLifecycle
import Storage
import UnixSignals

/// Assembles a node from its home directory (configuration → services → `ServiceGroup`) and
/// serves until SIGINT/SIGTERM.
public enum NodeRunner {
    /// Runs the validator or observer whose home is `home`; `apiHost`/`apiPort` and `logFormat`
    /// (`text`, `json`) override its config.
    public static func run(
        home: URL, apiHost: String?, apiPort: Int?, logFormat: String? = nil, snapshotFrom: [String] = []
    ) async throws {
        // Everything the node creates (databases and their WAL and shared-memory files, the data
        // directory, complaint contacts) is its operator's alone: 0600 files, 0700 directories.
        umask(0o077)
        let nodeHome = try NodeHome(home)
        var config = nodeHome.config
        if let apiHost { config.apiHost = apiHost }
        if let apiPort { config.apiPort = apiPort }
        if let logFormat { config.logFormat = logFormat }
        config.snapshotFrom += snapshotFrom
        try LogFormat.named(config.logFormat).bootstrap(
            level: ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info)
        let logger = Logger(label: "xiangchain")
        if let token = config.metricsToken, token.utf8.count < 16 {
            throw ChainError(.badConfig, "metricsToken must be at least 16 characters")
        }
        let genesis = nodeHome.genesis
        // The node's metrics, in the registry that GET /metrics emits.
        let registry = PrometheusCollectorRegistry()
        let metrics = NodeMetrics(factory: PrometheusMetricsFactory(registry: registry))
        // An empty node told to start from a snapshot loads the newest certified one first.
        if !config.snapshotFrom.isEmpty {
            // Bound to the genesis first; not held open during the join (the loaded database replaces it).
            let empty = try {
                let store = try BlockStore(
                    path: nodeHome.databasePath, hasher: genesis.suite.hasher, synchronousFull: config.syncCommits)
                try store.bindGenesis(hash: try genesis.hash, chainId: genesis.chainId)
                return try store.tip() == nil
            }()
            if empty {
                try await SnapshotJoin(
                    genesis: genesis, databasePath: nodeHome.databasePath,
                    sources: try config.snapshotFrom.map { try HTTPSnapshotSource($0) },
                    download: URL(fileURLWithPath: nodeHome.databasePath + ".download"), logger: logger,
                    timestampToleranceMs: config.timestampToleranceMs
                ).run()
            }
        }
        let node = try ChainNode(
            genesis: genesis, config: config, databasePath: nodeHome.databasePath, nodeKey: nodeHome.key,
            contracts: ChainContracts.all(config: config, genesis: genesis), logger: logger, metrics: metrics)
        // The node signs consumers' crab scans and complaints, and the periodic sweep, as itself (role node).
        guard ["log", "none"].contains(config.smsSender) else {
            throw ChainError(.badConfig, "smsSender must be log or none")
        }
        var gateway = try CrabGateway.load(home: home, suite: genesis.suite)
        if config.smsSender == "none" {
            gateway = CrabGateway(identity: gateway.identity, complaints: gateway.complaints, sms: nil)
        }
        let height = try node.store.tip()?.height ?? 0
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        func add(_ service: some Service) {
            services.append(
                .init(
                    service: service, successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        var statusSource: (@Sendable () -> ConsensusStatus?)?
        // Block sync for a node outside the validator set (an observer, or a validator-to-be).
        let sync =
            config.syncFrom.isEmpty
            ? nil
            : BlockSyncService(
                node: node, sources: try config.syncFrom.map { try HTTPBlockSource($0) },
                interval: .milliseconds(config.syncIntervalMs), logger: logger)
        if genesis.validators.count == 1 {
            if let sync, node.isObserver { add(sync) } else { add(SoloProducer(node: node, logger: logger)) }
        } else {
            let participation = Participation(node: node, home: home, sync: sync, logger: logger)
            statusSource = { participation.status }
            add(participation)
        }
        // On every validator (observers never sweep): the sweeper's failover order decides who
        // sweeps what (CrabSweeper), so periodic work does not depend on one node.
        if config.sweepIntervalSeconds > 0, !node.isObserver {
            add(
                CrabSweeper(
                    node: node, identity: gateway.identity, interval: .seconds(config.sweepIntervalSeconds), logger: logger))
        }
        // Transaction bodies older than the retention window go (headers, results and state stay).
        if config.retainBlockBodies > 0 { add(BodyPruner(node: node, logger: logger)) }
        // What a burst of large blocks left freed in the C allocator goes back to the system.
        if config.heapReturnMiB > 0 {
            add(HeapReturner(growth: config.heapReturnMiB << 20, metrics: metrics.factory, logger: logger))
        }
        // Console accounts: when the config names an account CA, or an accounts database exists.
        var console: ConsoleAccounts?
        if config.accountCA != nil || !config.hostedAccountCAs.isEmpty || AccountStore.exists(home: home) {
            let store = try AccountStore(home: home, suite: genesis.suite)
            // Audit entries are kept at least 183 days; older ones go at each start.
            if let pruned = try? store.auditLog.prune(), pruned > 0 {
                logger.info("pruned \(pruned) audit entries older than 183 days")
            }
            console = ConsoleAccounts(
                store: store,
                ca: try config.accountCA.map { try CertificateAuthority(directory: URL(fileURLWithPath: $0)) },
                hosted: try config.hostedAccountCAs.map { try CertificateAuthority(directory: URL(fileURLWithPath: $0)) })
        }
        // Every node of the org that hosts the accounts holds them all: changes go on chain sealed
        // under the org's hosting key and each node of the org applies them (HostingReplica).
        if let console, let org = try CertificateInfo(pem: gateway.identity.certificatePEM).org {
            let replica = try HostingReplica(
                node: node, admission: Admission(node: node, upstream: sync?.sources), identity: gateway.identity, org: org,
                hostingKey: try SecretFile.loadOrCreateKey(home.appendingPathComponent(HostingReplica.keyFile)),
                accounts: console.store, complaints: gateway.complaints)
            add(HostingService(replica: replica, interval: .milliseconds(max(50, config.hostingSyncIntervalMs)), logger: logger))
        }
        var limits = ChainAPI.ServerLimits()
        limits.maxConnections = min(config.maxHTTPConnections, FileLimits.raiseSoftLimit() * 3 / 4)
        limits.idleTimeout = .seconds(max(1, config.httpIdleTimeoutSeconds))
        var tls: TLSConfiguration?
        // The certificates whose days to expiry the metrics report.
        var certificates: [String: Date] = [:]
        if let pem = try? String(contentsOf: home.appendingPathComponent("node.cert.pem"), encoding: .utf8),
            let info = try? CertificateInfo(pem: pem)
        {
            certificates["node"] = info.notAfter
        }
        switch (config.apiTLSCertificate, config.apiTLSKey) {
        case (nil, nil): tls = nil
        case (let cert?, let key?):
            func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : home.appendingPathComponent(path).path }
            tls = try APITLS.configuration(certificateChain: resolve(cert), privateKey: resolve(key))
            if let leaf = try? NIOSSLCertificate.fromPEMFile(resolve(cert)).first {
                certificates["api_tls"] = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
            }
        default: throw ChainError(.badConfig, "apiTLSCertificate and apiTLSKey go together: give both or neither")
        }
        let xmlSchemas = try config.epcisXMLSchemas.map { dir in
            try EPCISXMLSchemas(directory: dir.hasPrefix("/") ? URL(fileURLWithPath: dir) : home.appendingPathComponent(dir))
        }
        add(
            try ChainAPI(
                node: node, consensus: statusSource, sync: sync, gateway: gateway, console: console, xmlSchemas: xmlSchemas,
                metrics: MetricsExport(registry: registry, certificates: certificates)
            ).application(host: config.apiHost, port: config.apiPort, limits: limits, tls: tls, logger: logger))
        logger.info(
            "\(node.isObserver ? "observer" : "node") \(config.nodeId) of chain \(node.chainId) (\(genesis.validators.count) validators) at height \(height); API on \(config.apiTLSCertificate == nil ? "http" : "https")://\(config.apiHost):\(config.apiPort)"
        )
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
