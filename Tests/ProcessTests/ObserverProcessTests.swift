import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// An observer process beside four validator processes: it starts late and catches up, follows
/// new blocks, forwards submissions to a validator and sees them commit, refuses bad ones itself,
/// and after SIGKILL resumes from its own store. Its blocks equal the validators' block for block.
@Suite(.serialized) struct ObserverProcessTests {
    let helper = MultiValidatorTests()

    @Test func anObserverFollowsFourValidatorsAndForwardsSubmissions() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "bft-test", "--base-port", String(base),
                "--observers", "1",
            ])
            #expect(made.status == 0, "\(made.output)")
            #expect(made.output.contains("observer observer0 (org0)"))
            try quickenConsensus(dir, validators: 4)
            let observerHome = dir.appendingPathComponent("observers/0")
            let observerConfig = try NodeConfig.load(from: observerHome.appendingPathComponent("config.json"))
            #expect(observerConfig.syncFrom == (0..<4).map { "http://127.0.0.1:\(base + $0)" })
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org2-admin"))
            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            let nodes = try (0..<4).map { try NodeProcess(home: homes[$0], port: base + $0) }
            for n in nodes { try await n.waitUntilReady() }
            var acknowledged: [String] = []
            for i in 0..<6 {
                let (txid, json) = try await helper.submit(signer, to: nodes[i % 4].baseURL)
                #expect(json["status"]?.stringValue == "committed", "\(json.canonicalString)")
                acknowledged.append(txid)
            }

            // Started late, the observer catches up.
            let observerPort = freeLocalPort()
            var observer = try NodeProcess(home: observerHome, port: observerPort)
            try await observer.waitUntilReady()
            let o = observer.baseURL
            func height(_ url: URL) async throws -> Int64 {
                try await HTTP.get(url.appendingPathComponent("v1/status")).1["height"]?.int64Value ?? -1
            }
            var target: Int64 = 0
            for n in nodes { target = max(target, try await height(n.baseURL)) }
            #expect(try await helper.waitUntil(.seconds(30)) { try await height(o) >= target }, "\(observer.logTail())")
            let (_, status) = try await HTTP.get(o.appendingPathComponent("v1/status"))
            #expect(status["mode"]?.stringValue == "observer")
            #expect(status["sync"]?["healthy"]?.boolValue == true, "\(status.canonicalString)")
            #expect(status["consensus"] == .null)

            // Submissions to the observer are checked there, forwarded, and seen committed through sync.
            for _ in 0..<4 {
                let (txid, json) = try await helper.submit(signer, to: o)
                #expect(json["status"]?.stringValue == "committed", "via observer: \(json.canonicalString)")
                acknowledged.append(txid)
            }
            var bad = TransactionSubmission(
                try signer.transaction(chain: "bft-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
            bad.signature = Data(repeating: 7, count: 64).base64EncodedString()
            let (code, refused) = try await HTTP.post(o.appendingPathComponent("v1/txs"), Array(try JSONEncoder().encode(bad)))
            #expect(code == 401 && refused["error"]?["code"]?.stringValue == "bad_signature", "\(refused.canonicalString)")

            // Killed, it misses blocks; restarted, it resumes from its store and catches up again.
            observer.stop(signal: SIGKILL)
            for i in 0..<4 {
                let (txid, json) = try await helper.submit(signer, to: nodes[i % 4].baseURL)
                #expect(json["status"]?.stringValue == "committed")
                acknowledged.append(txid)
            }
            observer = try NodeProcess(home: observerHome, port: observerPort)
            try await observer.waitUntilReady()
            // The highest committed height among the validators (the one that answered last may be ahead).
            var final: Int64 = 0
            for n in nodes { final = max(final, try await height(n.baseURL)) }
            #expect(try await helper.waitUntil(.seconds(30)) { try await height(o) >= final }, "\(observer.logTail())")
            #expect(try await helper.waitUntil(.seconds(30)) { try await height(nodes[0].baseURL) >= final })
            let theirs = try await helper.blockHashes(nodes[0].baseURL, upTo: final)
            let ours = try await helper.blockHashes(o, upTo: final)
            #expect(ours == theirs && ours.count == Int(final))
            for id in acknowledged {
                let (code, proof) = try await HTTP.get(o.appendingPathComponent("v1/txs/\(id)/proof"))
                #expect(code == 200)
                #expect(proof["finality"]?["kind"]?.stringValue == "quorum")
                #expect((proof["finality"]?["signatures"]?.arrayValue?.count ?? 0) >= 3, "\(proof.canonicalString)")
            }
            #expect(observer.stop(signal: SIGTERM) == 0)
            for n in nodes { #expect(n.stop(signal: SIGTERM) == 0) }
        }
    }
}
