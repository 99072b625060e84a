import ArgumentParser
import ChainCore
import Foundation
import Node

/// `xiangchain demo`: seeds the crab season on a network that is already running.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Seed a Yangcheng Lake hairy crab season (identities, members, rings, lots, boxes, coupons, scans and refused frauds) on a running network; once per network (D/demo.json)."
    )

    @Option(help: "Network directory (made by init or devnet).") var dir: String = ".devnet"
    @Option(help: "Node API base URL (default: the first validator that answers).") var node: String?

    func run() async throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        guard layout.exists else { throw ValidationError("\(dir) holds no network (no genesis.json)") }
        let candidates: [URL]
        if let node {
            guard let url = DemoRunner.normalized(node) else { throw ValidationError("--node is not a URL") }
            candidates = [url]
        } else {
            candidates = try DemoRunner.validatorAPIs(layout)
        }
        try await DemoRunner.run(layout: layout, candidates: candidates, dir: dir)
    }
}

/// Finds a node that answers and runs the demo against it; shared by `demo` and `devnet --demo`.
enum DemoRunner {
    /// The validators' API URLs from their configs, in order.
    static func validatorAPIs(_ layout: NetworkLayout) throws -> [URL] {
        let genesis = try Genesis.load(from: layout.genesisURL)
        return try genesis.validators.indices.compactMap {
            let config = try NodeConfig.load(from: layout.nodeHome($0).appendingPathComponent("config.json"))
            return URL(string: "http://\(config.apiHost):\(config.apiPort)")
        }
    }

    /// `text` as a URL without a trailing slash.
    static func normalized(_ text: String) -> URL? {
        var t = text
        while t.hasSuffix("/") { t.removeLast() }
        guard let url = URL(string: t), url.scheme != nil, url.host != nil else { return nil }
        return url
    }

    /// True when `GET /v1/status` answers 200.
    static func answers(_ url: URL) async -> Bool {
        (try? await APIClient.get(url.appendingPathComponent("v1/status")))?.0 == 200
    }

    /// Waits until every URL answers `/v1/status` (up to `timeout`); returns those that do.
    static func waitForAll(_ urls: [URL], timeout: Duration) async -> [URL] {
        let deadline = ContinuousClock.now + timeout
        var ready: [URL] = []
        while ContinuousClock.now < deadline {
            ready = []
            for u in urls where await answers(u) { ready.append(u) }
            if ready.count == urls.count { return ready }
            try? await Task.sleep(for: .milliseconds(300))
        }
        return ready
    }

    /// Seeds through the first candidate that answers (or prints the summary of an earlier seeding).
    static func run(layout: NetworkLayout, candidates: [URL], dir: String) async throws {
        let marker = layout.root.appendingPathComponent("demo.json")
        if FileManager.default.fileExists(atPath: marker.path) {
            let record = try DemoRecord.load(from: marker)
            say(record.summary(root: dir, alreadySeeded: true))
            return
        }
        var node: URL?
        for url in candidates where await answers(url) {
            node = url
            break
        }
        guard let node else {
            throw ChainError(
                .nodeUnavailable,
                "no node answers at \(candidates.map(\.absoluteString).joined(separator: ", ")); start the network first")
        }
        say("seeding the crab demo season through \(node.absoluteString) …")
        let (record, already) = try await DemoSeason(layout: layout, node: node).seedOnce()
        say(record.summary(root: dir, alreadySeeded: already))
    }
}

/// Prints a line and flushes, so progress shows at once also when the output is piped.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
