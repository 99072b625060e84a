import ArgumentParser
import ChainCore
import Foundation
import Node
import NodeRuntime

struct SoloCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "solo",
        abstract: "Run a single-validator chain in DIR (created with one org, org0, on first use).")

    @Option(help: "Consortium directory; created if missing.") var dir: String
    @Option(help: "API host.") var apiHost: String = "127.0.0.1"
    @Option(help: "API port.") var apiPort: Int = 8080
    @Option(help: "Log format: text or json (one JSON object per line).") var logFormat: String?

    func run() async throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        if !layout.exists {
            _ = try layout.create(orgs: ["org0"], suite: .ed25519, chainId: "xiangchain-local", basePort: nil)
            print("created a single-validator chain in \(dir); identity org0-admin in \(layout.identityDir("org0-admin").path)")
        }
        try await NodeRunner.run(home: layout.nodeHome(0), apiHost: apiHost, apiPort: apiPort, logFormat: logFormat)
    }
}

struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run the validator or observer whose home is HOME (D/nodes/<k>, D/observers/<k>).")

    @Option(help: "Node home directory.") var home: String
    @Option(help: "Override the API host.") var apiHost: String?
    @Option(help: "Override the API port.") var apiPort: Int?
    @Option(help: "Log format: text or json (one JSON object per line); overrides the config's logFormat.")
    var logFormat: String?
    @Option(
        name: .customLong("from-snapshot"),
        help:
            "API URL of a node to start this empty node from the newest certified state snapshot (repeatable; adds to the config's snapshotFrom)."
    )
    var fromSnapshot: [String] = []

    func run() async throws {
        try await NodeRunner.run(
            home: URL(fileURLWithPath: home), apiHost: apiHost, apiPort: apiPort, logFormat: logFormat,
            snapshotFrom: fromSnapshot)
    }
}
