import ArgumentParser
import ChainCore
import Foundation
import Node
import UnixSignals

#if canImport(Glibc)
    import Glibc
#endif

struct DevnetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devnet",
        abstract:
            "Run a local multi-validator network: creates it in DIR on first use, starts one process per validator, stops them on Ctrl-C."
    )

    @Option(help: "Number of validators (one org each) when creating the network.") var nodes: Int = 4
    @Option(help: "Network directory; created on first use, resumed afterwards.") var dir: String = ".devnet"
    @Option(help: "API ports are P+k and p2p ports P+1000+k (default: API 8080+k, p2p 7000+k).") var basePort: Int?
    @Option(help: "Chain id when creating the network.") var chainId: String = "xiangchain-devnet"
    @Option(help: "Observer nodes (non-voting, following the chain) when creating the network.") var observers: Int = 0

    func validate() throws {
        guard (1...64).contains(nodes) else { throw ValidationError("--nodes must be 1–64") }
        guard (0...16).contains(observers) else { throw ValidationError("--observers must be 0–16") }
    }

    func run() async throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        if !layout.exists {
            _ = try layout.create(
                orgs: (0..<nodes).map { "org\($0)" }, suite: .ed25519, chainId: chainId, basePort: basePort)
            for k in 0..<observers { try layout.addObserver(org: "org\(k % nodes)") }
            say(
                "created a \(nodes)-validator network\(observers > 0 ? " with \(observers) observer\(observers == 1 ? "" : "s")" : "") in \(dir)"
            )
        } else {
            say("resuming the network in \(dir)")
        }
        let genesis = try Genesis.load(from: layout.genesisURL)
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var children: [(String, Process)] = []
        let homes = genesis.validators.indices.map { layout.nodeHome($0) } + layout.observerHomes
        for home in homes {
            let config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
            let log = home.appendingPathComponent("node.log")
            if !FileManager.default.fileExists(atPath: log.path) {
                FileManager.default.createFile(atPath: log.path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: log)
            handle.seekToEndOfFile()
            let p = Process()
            p.executableURL = executable
            p.arguments = ["node", "--home", home.path]
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            children.append((config.nodeId, p))
            let role = genesis.validators.first { $0.nodeId == config.nodeId }.map { "validator of \($0.org)" } ?? "observer"
            say("  \(config.nodeId) (\(role)): API http://\(config.apiHost):\(config.apiPort)  log \(log.path)")
        }
        say(
            "identities (key.pem, cert.pem) in \(layout.root.appendingPathComponent("identities").path); Ctrl-C stops the network"
        )
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        for await _ in signals { break }
        say("stopping \(children.count) nodes …")
        for (_, p) in children where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        for (nodeId, p) in children {
            p.waitUntilExit()
            say("  \(nodeId) exited with status \(p.terminationStatus)")
        }
    }
}

/// Prints a line and flushes, so the URLs show at once also when the output is piped.
private func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
