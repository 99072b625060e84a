import ArgumentParser
import ChainClient
import ChainCore
import Demo
import Foundation
import Launcher
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
    @Option(help: "Crypto suite when creating the network: ed25519, p256 or sm2 (SM2/SM3, GB/T 32918 and 32905).")
    var suite: CryptoSuite = .ed25519
    @Flag(help: "Once every validator answers, seed the crab demo season (once per network; see D/demo.json).") var demo = false

    func validate() throws {
        guard (1...64).contains(nodes) else { throw ValidationError("--nodes must be 1–64") }
        guard (0...16).contains(observers) else { throw ValidationError("--observers must be 0–16") }
    }

    func run() async throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        if !layout.exists {
            // The demo's members (three farms, two merchants, a lab, a carrier) each need an org of
            // their own, the market regulator one, and the 三资 village and township one each: add
            // member orgs without a validator up to eleven.
            let orgCount = demo ? max(nodes, DemoRunner.orgCount) : nodes
            let orgNames = (0..<orgCount).map { "org\($0)" }
            _ = try layout.create(
                orgs: orgNames, suite: suite, chainId: chainId, basePort: basePort, validators: nodes,
                roles: demo ? try DemoRunner.rolePolicy(orgs: orgNames, validators: nodes) : nil)
            for k in 0..<observers { try layout.addObserver(org: "org\(k % nodes)") }
            if demo { try DemoAccounts.create(layout: layout) }
            say(
                "created a \(nodes)-validator network\(orgCount > nodes ? " of \(orgCount) orgs" : "")\(observers > 0 ? " with \(observers) observer\(observers == 1 ? "" : "s")" : "") in \(dir)"
            )
        } else {
            say("resuming the network in \(dir)")
        }
        let genesis = try Genesis.load(from: layout.genesisURL)
        let network = try LocalNetwork.start(layout, observers: true)
        for (nodeId, node, client) in network.nodes {
            let role = genesis.validators.first { $0.nodeId == nodeId }.map { "validator of \($0.org)" } ?? "observer"
            say("  \(nodeId) (\(role)): API \(client.baseURL.absoluteString)  log \(node.logURL.path)")
        }
        say(
            "identities (key.pem, cert.pem) in \(layout.root.appendingPathComponent("identities").path); Ctrl-C stops the network"
        )
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let root = dir
        await withTaskGroup(of: Bool.self) { group in
            if demo {
                group.addTask {
                    await seedDemo(layout, dir: root)
                    return false
                }
            }
            group.addTask {
                for await _ in signals { break }
                return true
            }
            for await stopped in group where stopped {
                group.cancelAll()
                break
            }
        }
        say("stopping \(network.nodes.count) nodes …")
        for (nodeId, status) in await network.stop(signal: SIGTERM) {
            say("  \(nodeId) exited with status \(status)")
        }
    }
}

/// Seeds the demo season once all validators answer; reports failure without stopping the network.
private func seedDemo(_ layout: NetworkLayout, dir: String) async {
    do {
        let urls = try DemoRunner.validatorAPIs(layout)
        let ready = await DemoRunner.waitForAll(urls, timeout: .seconds(120))
        if ready.count < urls.count {
            say("demo: only \(ready.count) of \(urls.count) validators answer /v1/status; seeding anyway")
        }
        try await DemoRunner.run(layout: layout, candidates: ready + urls.filter { !ready.contains($0) }, dir: dir)
        if let lines = DemoAccounts.summary(layout: layout) {
            say("")
            for line in lines { say(line) }
        }
    } catch {
        say("demo: seeding failed: \(error)")
    }
}
