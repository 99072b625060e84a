import ChainCore
import ChainTesting
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import Node
import Testing

/// How long the test transactions have left inside the tolerance when signed (ms): far more than
/// a loaded machine ever stalls between signing and admission.
private let toleranceLeft: Int64 = 300_000

/// Through HTTP: a transaction the mempool dropped for age answers 410 `tx_expired` on
/// `GET /v1/txs/{txid}` (an id never seen stays 404), a `POST /v1/txs?wait=commit` waiting on it
/// answers 410 at once, and a committed transaction is never reported expired. The expiry is
/// driven with an explicit clock reading (`ChainNode.expireStale(nowMillis:)`).
extension APITests {
    @Test func aTransactionDroppedForAgeAnswers410ExpiredNotUnknown() async throws {
        try await withNode { node, client in
            let now = ChainNode.nowMillis()
            let tolerance = node.config.timestampToleranceMs
            let tx = try evidenceTx(try consortium.identity(.farm), timestamp: now - tolerance + toleranceLeft)
            #expect(try await client.submit(tx).status == .accepted)
            #expect(try await client.call(.get, "/v1/txs/\(tx.txid)").json["status"]?.stringValue == "pending")

            #expect(node.expireStale(nowMillis: now + toleranceLeft + 2_001) == [tx.id])
            let gone = try await client.call(.get, "/v1/txs/\(tx.txid)")
            #expect(gone.status == .gone)
            #expect(gone.code == "tx_expired", "\(gone.json)")
            #expect(gone.json["error"]?["message"]?.stringValue?.contains("sign it again") == true)
            // Never seen: still 404.
            let unknown = try await client.call(.get, "/v1/txs/\(String(repeating: "ab", count: 32))")
            #expect(unknown.status == .notFound && unknown.code == "not_found")
            // Submitted again (the real clock still finds it inside the tolerance): 410 too.
            let again = try await client.submit(tx)
            #expect(again.status == .gone && again.code == "tx_expired", "\(again.json)")

            // A block that held it commits after all (one this node had not seen): the store is
            // looked at first, so it answers committed, never expired.
            let verified = try node.verifier.verify(tx, nowMillis: now)
            #expect(try node.commitBlock([verified], proposer: "node0", timestamp: now, consensusBlock: nil) != nil)
            let committed = try await client.call(.get, "/v1/txs/\(tx.txid)")
            #expect(committed.status == .ok && committed.json["status"]?.stringValue == "committed", "\(committed.json)")
        }
    }

    @Test func aWaitForCommitOfATransactionThatExpiresAnswers410AtOnce() async throws {
        // A long wait, so that its end (202 pending) cannot be mistaken for the answer to the expiry.
        let timeout = Duration.seconds(120)
        try await withNode(maxWait: timeout) { node, client in
            let now = ChainNode.nowMillis()
            let tx = try evidenceTx(
                try consortium.identity(.lab), timestamp: now - node.config.timestampToleranceMs + toleranceLeft)
            async let reply = client.submit(tx, query: "?wait=commit&timeout=120000")
            #expect(try await pollUntil { node.mempool.contains(tx.id) })
            // Admitted: the wait has begun (it registers before it submits).
            let started = ContinuousClock.now
            #expect(node.expireStale(nowMillis: now + toleranceLeft + 2_001) == [tx.id])
            let r = try await reply
            #expect(r.status == .gone, "\(r.json)")
            #expect(r.code == "tx_expired")
            #expect(ContinuousClock.now - started < timeout)
        }
    }
}
