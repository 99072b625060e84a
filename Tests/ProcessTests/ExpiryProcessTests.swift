import ChainClient
import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Real `xiangchain node` processes, one validator of four started alone (no quorum: no block can
/// take anything). A transaction it admitted five seconds before its timestamp leaves the tolerance
/// is not reported expired while the node is cut off: it cannot tell whether a block it never saw
/// holds it, so it stays pending past the deadline. Once the other three are up and the chain
/// commits past the deadline, the node drops it, and the clients learn `tx_expired` at once:
/// `ChainClient.waitForCommit` and `transaction` throw it and `GET /v1/txs/{txid}` answers 410.
/// (Before: 404 `not_found`, and every wait ran to its timeout.) The in-node wait (`wait=commit`)
/// ending with 410 is covered in `ExpiredTransactionAPITests`.
@Suite struct ExpiryProcessTests {
    @Test func aTransactionNoBlockTakesIsReportedExpiredOnceTheChainMovesPastIt() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "expiry-test", "--base-port",
                String(base),
            ])
            #expect(made.status == 0, "\(made.output)")
            try quickenConsensus(dir, validators: 4)
            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            let tolerance = try NodeConfig.load(from: homes[0].appendingPathComponent("config.json")).timestampToleranceMs
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org1-admin"))
            var nodes = [try NodeProcess(home: homes[0], port: base)]
            try await nodes[0].waitUntilReady()
            let client = nodes[0].client
            func isExpired(_ error: any Error) -> Bool { (error as? ChainError)?.code == .txExpired }

            // Five seconds of tolerance left.
            let tx = try signer.transaction(
                chain: "expiry-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                timestamp: ChainNode.nowMillis() - tolerance + 5_000)
            #expect(try await client.submit(tx).status == "accepted")
            #expect(try await client.transaction(tx.txid)?["status"]?.stringValue == "pending")
            // Cut off, past the deadline and the margin of the report (2 s) and a sweep or two:
            // still pending, not expired.
            try await Task.sleep(for: .seconds(10))
            #expect(try await client.transaction(tx.txid)?["status"]?.stringValue == "pending")
            // The others come up; the chain commits (empty blocks) past the deadline.
            for k in 1..<4 { nodes.append(try NodeProcess(home: homes[k], port: base + k)) }
            let started = ContinuousClock.now
            await #expect(
                performing: { _ = try await client.waitForCommit(tx.txid, timeout: .seconds(120)) }, throws: isExpired)
            let polled = ContinuousClock.now - started
            #expect(polled < .seconds(120))
            await #expect(performing: { _ = try await client.transaction(tx.txid) }, throws: isExpired)
            let (status, json) = try await HTTP.get(nodes[0].baseURL.appendingPathComponent("v1/txs/\(tx.txid)"))
            #expect(status == 410 && json["error"]?["code"]?.stringValue == "tx_expired", "\(json)")
            print("expired \(polled) after the other validators were started")
            for node in nodes { #expect(node.stop(signal: SIGTERM) == 0, "\(node.logTail())") }
        }
    }
}
