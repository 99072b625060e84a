import ChainClient
import ChainCore
import Foundation
import Identity
import Launcher
import Node

/// Finds a node that answers and runs the demo against it; shared by `demo` and `devnet --demo`.
public enum DemoRunner {
    /// Orgs of a demo network: three farms, two shops, the lab and the carrier each an org of
    /// their own, the association's org (org0), the market regulator's (org8), and the 三资
    /// village (org9) and its township station (org10).
    public static let orgCount = 11

    /// The role policy of a demo network of `orgs` whose first `validators` orgs run validators.
    public static func rolePolicy(orgs: [String], validators: Int) throws -> [String: [Role]] {
        try DemoCast.rolePolicy(orgs: orgs, validators: validators)
    }

    /// The validators' API URLs from their configs, in order.
    public static func validatorAPIs(_ layout: NetworkLayout) throws -> [URL] {
        let genesis = try Genesis.load(from: layout.genesisURL)
        return try genesis.validators.indices.compactMap {
            let config = try NodeConfig.load(from: layout.nodeHome($0).appendingPathComponent("config.json"))
            return URL(string: config.apiURL)
        }
    }

    /// `text` as a URL without a trailing slash.
    public static func normalized(_ text: String) -> URL? {
        var t = text
        while t.hasSuffix("/") { t.removeLast() }
        guard let url = URL(string: t), url.scheme != nil, url.host != nil else { return nil }
        return url
    }

    /// True when `GET /v1/status` answers 200.
    static func answers(_ url: URL) async -> Bool {
        guard let client = try? ChainClient(url) else { return false }
        return await client.answers()
    }

    /// Waits until every URL answers `/v1/status` (up to `timeout`); returns those that do.
    public static func waitForAll(_ urls: [URL], timeout: Duration) async -> [URL] {
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
    public static func run(layout: NetworkLayout, candidates: [URL], dir: String) async throws {
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
