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

/// A real `xiangchain node` process, one validator of four with the other three never started (no
/// quorum: no block can take anything). A transaction it admitted five seconds before its timestamp
/// leaves the tolerance is dropped by the node's own sweep a few seconds later, and every way a
/// client waits learns `tx_expired` at once: `ChainClient.waitForCommit` and `transaction` throw it,
/// `GET /v1/txs/{txid}` answers 410, `POST /v1/txs?wait=commit` answers 410 before its timeout.
/// (Before: 404 `not_found`, and every wait ran to its timeout.)
@Suite struct ExpiryProcessTests {
    @Test func aTransactionNoBlockTakesIsReportedExpiredToEveryWaitingClient() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "expiry-test", "--base-port",
                String(base),
            ])
            #expect(made.status == 0, "\(made.output)")
            try quickenConsensus(dir, validators: 1)
            let home = dir.appendingPathComponent("nodes/0")
            let tolerance = try NodeConfig.load(from: home.appendingPathComponent("config.json")).timestampToleranceMs
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org1-admin"))
            let node = try NodeProcess(home: home, port: base)
            try await node.waitUntilReady()
            let client = node.client
            func stale() throws -> SignedTransaction {
                // Five seconds of tolerance left: reported expired about seven seconds from now.
                try signer.transaction(
                    chain: "expiry-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                    timestamp: ChainNode.nowMillis() - tolerance + 5_000)
            }
            func isExpired(_ error: any Error) -> Bool { (error as? ChainError)?.code == .txExpired }

            let first = try stale()
            #expect(try await client.submit(first).status == "accepted")
            #expect(try await client.transaction(first.txid)?["status"]?.stringValue == "pending")
            let started = ContinuousClock.now
            // Waiting inside the node (`wait=commit`, 30 s at most) and polling, side by side.
            let second = try stale()
            async let waited: Duration = {
                await #expect(performing: { _ = try await client.submit(second, waitForCommit: true) }, throws: isExpired)
                return ContinuousClock.now - started
            }()
            await #expect(
                performing: { _ = try await client.waitForCommit(first.txid, timeout: .seconds(90)) }, throws: isExpired)
            let polled = ContinuousClock.now - started
            #expect(polled < .seconds(90))
            await #expect(performing: { _ = try await client.transaction(first.txid) }, throws: isExpired)
            let (status, json) = try await HTTP.get(node.baseURL.appendingPathComponent("v1/txs/\(first.txid)"))
            #expect(status == 410 && json["error"]?["code"]?.stringValue == "tx_expired", "\(json)")
            let inNode = await waited
            #expect(inNode < .seconds(30))
            print("expired: polled for \(polled), waited in the node for \(inNode)")
            #expect(node.stop(signal: SIGTERM) == 0, "\(node.logTail())")
        }
    }
}
