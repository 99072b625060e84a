import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Testing

/// `xiangchain node` with `snapshotFrom`: an observer process starts from the validator process's
/// certified snapshot over HTTP (the database built beside the empty one and renamed over it),
/// then syncs the blocks after it.
@Suite(.serialized) struct SnapshotJoinProcessTests {
    let helper = MultiValidatorTests()

    /// Sets `key` to `value` in the JSON config of `home`.
    func set(_ key: String, _ value: Any, in home: URL) throws {
        let url = home.appendingPathComponent("config.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        object[key] = value
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    @Test func anObserverProcessStartsFromTheValidatorsSnapshotAndSyncsOn() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 1)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0", "--chain-id", "bft-test", "--base-port", String(base),
                "--observers", "1",
            ])
            #expect(made.status == 0, "\(made.output)")
            let home = dir.appendingPathComponent("nodes/0")
            let observerHome = dir.appendingPathComponent("observers/0")
            try set("snapshotInterval", 3, in: home)
            try set("snapshotFrom", ["http://127.0.0.1:\(base)"], in: observerHome)
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org0-admin"))
            let node = try NodeProcess(home: home, port: base)
            try await node.waitUntilReady()
            for _ in 0..<8 {
                let (_, json) = try await helper.submit(signer, to: node.baseURL)
                #expect(json["status"]?.stringValue == "committed", "\(json.canonicalString)")
            }
            let latest = node.baseURL.appendingPathComponent("v1/snapshots/latest")
            #expect(
                try await helper.waitUntil(.seconds(30)) { try await HTTP.get(latest).0 == 200 }, "\(node.logTail())")
            let snapshotHeight = try #require(try await HTTP.get(latest).1["height"]?.int64Value)

            let observer = try NodeProcess(home: observerHome, port: freeLocalPort())
            try await observer.waitUntilReady()
            let log = observer.logTail(400)
            #expect(log.contains("loaded state snapshot") && !log.contains("loaded in place"), "\(log)")
            #expect(
                !FileManager.default.fileExists(atPath: observerHome.appendingPathComponent("data/chain.sqlite.joining").path))
            // It holds no block below the snapshot, and syncs the blocks after it.
            let (code, _) = try await HTTP.get(observer.baseURL.appendingPathComponent("v1/blocks/1"))
            #expect(code == 404 || code == 410)
            let (_, json) = try await helper.submit(signer, to: node.baseURL)
            #expect(json["status"]?.stringValue == "committed")
            func height(_ url: URL) async throws -> Int64 {
                try await HTTP.get(url.appendingPathComponent("v1/status")).1["height"]?.int64Value ?? -1
            }
            let target = try await height(node.baseURL)
            #expect(target > snapshotHeight)
            #expect(
                try await helper.waitUntil(.seconds(30)) { try await height(observer.baseURL) >= target },
                "\(observer.logTail())")
        }
    }
}
