import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Four `xiangchain node` processes on loopback with real TLS and real SQLite: transactions
/// submitted to any validator commit on all; one validator killed, the rest go on; two killed,
/// nothing commits and nothing forks; both restarted, they catch up and every acknowledged
/// transaction is present, identical, on all four.
@Suite(.serialized) struct MultiValidatorTests {
    func submit(_ signer: SigningIdentity, to base: URL, timeoutMs: Int = 20_000) async throws -> (String, JSONValue) {
        let tx = try signer.transaction(chain: "bft-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
        let url = URL(string: "\(base.absoluteString)/v1/txs?wait=commit&timeout=\(timeoutMs)")!
        let (_, json) = try await HTTP.post(url, Array(try JSONEncoder().encode(TransactionSubmission(tx))))
        return (tx.txid, json)
    }

    func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    func blockHashes(_ base: URL, upTo height: Int64) async throws -> [String] {
        var hashes: [String] = []
        var from: Int64 = 1
        while from <= height {
            let (_, page) = try await HTTP.get(URL(string: "\(base.absoluteString)/v1/blocks?from=\(from)&limit=100")!)
            let blocks = page["blocks"]?.arrayValue ?? []
            guard !blocks.isEmpty else { break }
            for b in blocks where (b["height"]?.int64Value ?? 0) <= height { hashes.append(b["hash"]?.stringValue ?? "") }
            from += Int64(blocks.count)
        }
        return hashes
    }

    @Test func fourValidatorProcessesToleratingOneFailureAndRecoveringFromTwo() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "bft-test", "--base-port", String(base),
            ])
            #expect(made.status == 0, "\(made.output)")
            try quickenConsensus(dir, validators: 4)
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org1-admin"))
            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            var nodes = try (0..<4).map { try NodeProcess(home: homes[$0], port: base + $0) }
            for n in nodes { try await n.waitUntilReady() }
            let urls = nodes.map(\.baseURL)
            var acknowledged: [String] = []

            // Submitted to any of the four, committed.
            for i in 0..<12 {
                let (txid, json) = try await submit(signer, to: urls[i % 4])
                #expect(json["status"]?.stringValue == "committed", "\(json.canonicalString)")
                if json["status"]?.stringValue == "committed" { acknowledged.append(txid) }
            }

            // One validator killed: the other three keep committing.
            nodes[3].stop(signal: SIGKILL)
            for i in 0..<6 {
                let (txid, json) = try await submit(signer, to: urls[i % 3])
                #expect(json["status"]?.stringValue == "committed", "with node3 down: \(json.canonicalString)")
                if json["status"]?.stringValue == "committed" { acknowledged.append(txid) }
            }

            // Two killed: no block commits, and the status says why.
            nodes[2].stop(signal: SIGKILL)
            #expect(
                try await waitUntil(.seconds(20)) {
                    let (_, s) = try await HTTP.get(urls[0].appendingPathComponent("v1/status"))
                    return s["consensus"]?["stalled"]?.stringValue?.contains("2 of 4 validators unreachable") == true
                })
            // (A block certified just before the second kill may still commit; from the stall on,
            // nothing does.)
            let (_, before) = try await HTTP.get(urls[0].appendingPathComponent("v1/status"))
            let (stuckTx, stuck) = try await submit(signer, to: urls[0], timeoutMs: 3_000)
            #expect(stuck["status"]?.stringValue == "pending")
            let (_, after) = try await HTTP.get(urls[0].appendingPathComponent("v1/status"))
            #expect(after["height"] == before["height"])

            // Both restarted: the chain goes on, they catch up, and all four hold the same blocks.
            nodes[2] = try NodeProcess(home: homes[2], port: base + 2)
            nodes[3] = try NodeProcess(home: homes[3], port: base + 3)
            try await nodes[2].waitUntilReady()
            try await nodes[3].waitUntilReady()
            let (txid, json) = try await submit(signer, to: urls[3], timeoutMs: 60_000)
            #expect(json["status"]?.stringValue == "committed", "after restart: \(json.canonicalString)")
            acknowledged.append(txid)
            let all = acknowledged + [stuckTx]
            #expect(
                try await waitUntil(.seconds(90)) {
                    for u in urls {
                        for id in all {
                            let (code, t) = try await HTTP.get(u.appendingPathComponent("v1/txs/\(id)"))
                            guard code == 200, t["status"]?.stringValue == "committed" else { return false }
                        }
                    }
                    return true
                }, "every acknowledged transaction on every node")
            let (_, s0) = try await HTTP.get(urls[0].appendingPathComponent("v1/status"))
            let height = s0["height"]?.int64Value ?? 0
            #expect(height > 0)
            #expect(
                try await waitUntil(.seconds(60)) {
                    var seen = Set<[String]>()
                    for u in urls { seen.insert(try await blockHashes(u, upTo: height)) }
                    return seen.count == 1 && seen.first?.count == Int(height)
                }, "identical blocks 1...\(height) on all four")
            for n in nodes { #expect(n.stop(signal: SIGTERM) == 0) }
        }
    }
}
