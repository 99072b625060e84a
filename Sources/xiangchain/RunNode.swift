import API
import ArgumentParser
import ChainCore
import EvidenceContract
import Execution
import Foundation
import Hummingbird
import Logging
import Node
import ServiceLifecycle
import Storage
import UnixSignals

/// Starts a node from its home directory and serves until SIGINT/SIGTERM.
enum NodeRunner {
    static func run(home: URL, apiHost: String?, apiPort: Int?) async throws {
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
        guard nodeHome.genesis.validators.count == 1 else {
            throw ChainError(
                "consensus_unavailable",
                "this chain has \(nodeHome.genesis.validators.count) validators; multi-validator BFT consensus is not built yet, so only single-validator chains run"
            )
        }
        let node = try ChainNode(
            genesis: nodeHome.genesis, config: config, databasePath: nodeHome.databasePath, nodeKey: nodeHome.key,
            contracts: [EvidenceContract()], logger: logger)
        let height = try node.store.tip()?.height ?? 0
        let app = ChainAPI(node: node).application(host: config.apiHost, port: config.apiPort, logger: logger)
        let producer = SoloProducer(node: node, logger: logger)
        logger.info(
            "node \(config.nodeId) of chain \(node.chainId) at height \(height); API on http://\(config.apiHost):\(config.apiPort)"
        )
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(
                        service: producer, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: app, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

struct SoloCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solo",
        abstract: "Run a single-validator chain in DIR (created with one org, org0, on first use).")

    @Option(help: "Consortium directory; created if missing.") var dir: String
    @Option(help: "API host.") var apiHost: String = "127.0.0.1"
    @Option(help: "API port.") var apiPort: Int = 8080

    func run() async throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        if !layout.exists {
            _ = try layout.create(orgs: ["org0"], suite: .ed25519, chainId: "xiangchain-local", basePort: nil)
            print("created a single-validator chain in \(dir); identity org0-admin in \(layout.identityDir("org0-admin").path)")
        }
        try await NodeRunner.run(home: layout.nodeHome(0), apiHost: apiHost, apiPort: apiPort)
    }
}

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run the validator whose home is HOME (D/nodes/<k>).")

    @Option(help: "Node home directory.") var home: String
    @Option(help: "Override the API host.") var apiHost: String?
    @Option(help: "Override the API port.") var apiPort: Int?

    func run() async throws {
        try await NodeRunner.run(home: URL(fileURLWithPath: home), apiHost: apiHost, apiPort: apiPort)
    }
}
