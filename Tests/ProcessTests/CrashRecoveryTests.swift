import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real processes, real sockets, real SQLite: a node killed with SIGKILL in the middle of a load
/// comes back with every transaction it acknowledged as committed, and no partial block.
@Suite(.serialized) struct CrashRecoveryTests {
    @Test func sigkillUnderLoadLosesNoAcknowledgedTransactionAndLeavesNoPartialBlock() async throws {
        try await withTemporaryDirectory { dir in
            let created = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0", "--chain-id", "crash-test",
            ])
            #expect(created.status == 0, "\(created.output)")
            let home = dir.appendingPathComponent("nodes/0")
            var config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
            config.blockIntervalMs = 20
            config.maxBlockTxs = 50
            try config.write(to: home.appendingPathComponent("config.json"))
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org0-admin"))
            let port = freeLocalPort()

            let node = try NodeProcess(home: home, port: port)
            try await node.waitUntilReady()
            let acknowledged = Acknowledged()
            let submitURL = URL(string: "\(node.baseURL.absoluteString)/v1/txs?wait=commit")!

            // Sixteen clients submit and wait for commit until the node dies under them.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        while !acknowledged.stopped {
                            let tx = try signer.transaction(
                                chain: "crash-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                            guard
                                let (status, json) = try? await HTTP.post(
                                    submitURL, Array(try JSONEncoder().encode(TransactionSubmission(tx))))
                            else { return }  // the node is gone
                            if status == 200, json["status"]?.stringValue == "committed" {
                                acknowledged.add(tx.txid)
                            }
                        }
                    }
                }
                let deadline = ContinuousClock.now + .seconds(20)
                while acknowledged.count < 400, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                node.stop(signal: SIGKILL)
                // No task cancellation: cancelling an in-flight URLSession request can deadlock in
                // swift-corelibs-foundation. The clients see the connection drop and stop.
                acknowledged.stop()
                try await group.waitForAll()
            }
            let acked = acknowledged.all
            #expect(acked.count >= 100, "load too small to mean anything: \(acked.count)")

            // Restart on the same home.
            let restarted = try NodeProcess(home: home, port: port)
            try await restarted.waitUntilReady()
            let base = restarted.baseURL
            for txid in acked {
                let (status, json) = try await HTTP.get(base.appendingPathComponent("v1/txs/\(txid)"))
                #expect(status == 200 && json["status"]?.stringValue == "committed", "acknowledged \(txid) missing after restart")
            }
            // Every block is whole: its transactions match its header, and the hashes link up.
            let (_, statusJSON) = try await HTTP.get(base.appendingPathComponent("v1/status"))
            let height = try #require(statusJSON["height"]?.int64Value)
            var parent = Hash256.zero
            var from: Int64 = 1
            while from <= height {
                let (_, page) = try await HTTP.get(URL(string: "\(base.absoluteString)/v1/blocks?from=\(from)&limit=100")!)
                for b in page["blocks"]?.arrayValue ?? [] {
                    let header = try BlockHeader(
                        decoding: Array(Data(base64Encoded: b["headerBytes"]!.stringValue!)!), hasher: .sha256)
                    let txids = (b["txids"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(Hash256.init(hex:)) }
                    #expect(Int(header.txCount) == txids.count, "block \(header.height) is partial")
                    #expect(
                        MerkleTree.root(leafHashes: txids.map { MerkleTree.leafHash($0.bytes, hasher: .sha256) }, hasher: .sha256)
                            == header.txRoot)
                    #expect(header.parentHash == parent, "block \(header.height) does not link to its parent")
                    parent = header.hash
                    from = Int64(header.height) + 1
                }
            }
            // And the chain goes on from where it stopped.
            let tx = try signer.transaction(
                chain: "crash-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            let (status, json) = try await HTTP.post(
                URL(string: "\(base.absoluteString)/v1/txs?wait=commit")!,
                Array(try JSONEncoder().encode(TransactionSubmission(tx))))
            #expect(status == 200 && json["status"]?.stringValue == "committed")
            #expect((json["height"]?.int64Value ?? 0) > height)
            #expect(restarted.stop(signal: SIGTERM) == 0, "graceful shutdown on SIGTERM")
        }
    }
}

/// Transaction ids the node acknowledged as committed, shared by the client tasks.
final class Acknowledged: Sendable {
    private let ids = Mutex<[String]>([])
    private let done = Mutex(false)
    func add(_ id: String) { ids.withLock { $0.append(id) } }
    func stop() { done.withLock { $0 = true } }
    var stopped: Bool { done.withLock { $0 } }
    var count: Int { ids.withLock { $0.count } }
    var all: [String] { ids.withLock { $0 } }
}
