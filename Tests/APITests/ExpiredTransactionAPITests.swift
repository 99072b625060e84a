import API
import ChainCore
import ChainTesting
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import Logging
import Node
import Prometheus
import Storage
import Synchronization
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

    /// An observer forwards its clients' transactions and holds none of them: over HTTP, it asks
    /// its validator, so a forwarded transaction reads `pending` there (it was 404 until its
    /// block synced) and one the validator dropped for age reads 410 `tx_expired`, as on a validator.
    @Test func anObserverAsksItsValidatorAboutTransactionsItForwarded() async throws {
        try await withTemporaryDirectory { dir in
            let validator = try consortium.node(in: dir)
            let observer = try consortium.observer(in: dir)
            try await Application(router: ChainAPI(node: validator).router()).test(.live) { upstream in
                let port = try #require(upstream.port)
                let source = try HTTPBlockSource("http://localhost:\(port)")
                let sync = BlockSyncService(
                    node: observer, sources: [source], interval: .seconds(3_600), logger: Logger(label: "o"))
                try await Application(router: ChainAPI(node: observer, sync: sync).router()).test(.router) { client in
                    let now = ChainNode.nowMillis()
                    let tx = try evidenceTx(
                        try consortium.identity(.farm), timestamp: now - validator.config.timestampToleranceMs + toleranceLeft)
                    #expect(try await client.submit(tx).status == .accepted)
                    #expect(validator.mempool.contains(tx.id) && observer.mempool.count == 0)
                    let pending = try await client.call(.get, "/v1/txs/\(tx.txid)")
                    #expect(pending.status == .ok && pending.json["status"]?.stringValue == "pending", "\(pending.json)")

                    #expect(validator.expireStale(nowMillis: now + toleranceLeft + 2_001) == [tx.id])
                    let gone = try await client.call(.get, "/v1/txs/\(tx.txid)")
                    #expect(gone.status == .gone && gone.code == "tx_expired", "\(gone.json)")
                    let unknown = try await client.call(.get, "/v1/txs/\(String(repeating: "cd", count: 32))")
                    #expect(unknown.status == .notFound && unknown.code == "not_found")
                }
            }
        }
    }

    /// An observer asks its validators only about transactions it forwarded itself: a stranger's
    /// `GET /v1/txs/{txid}` of ids it never saw costs no request upstream (each one did, so
    /// anonymous reads of random ids made the observer send as many to its validators), while a
    /// forwarded one is still asked about and reads `pending`.
    @Test func anObserverAsksUpstreamOnlyAboutTransactionsItForwarded() async throws {
        try await withTemporaryDirectory { dir in
            let validator = try consortium.node(in: dir)
            let observer = try consortium.observer(in: dir)
            let source = CountingSource(node: validator)
            let sync = BlockSyncService(node: observer, sources: [source], interval: .seconds(3_600), logger: Logger(label: "o"))
            try await Application(router: ChainAPI(node: observer, sync: sync).router()).test(.router) { client in
                for i in 0..<50 {
                    let r = try await client.call(.get, "/v1/txs/\(String(format: "%064x", i + 1))")
                    #expect(r.status == .notFound && r.code == "not_found")
                }
                #expect(source.asked.load(ordering: .relaxed) == 0)
                let tx = try evidenceTx(try consortium.identity(.farm))
                #expect(try await client.submit(tx).status == .accepted)
                let pending = try await client.call(.get, "/v1/txs/\(tx.txid)")
                #expect(pending.status == .ok && pending.json["status"]?.stringValue == "pending", "\(pending.json)")
                #expect(source.asked.load(ordering: .relaxed) == 1)
            }
        }
    }

    /// Operators see expiries in `/metrics` (`xiangchain_transactions_expired_total`), present at
    /// 0 before the first one.
    @Test func expiredTransactionsAreCountedInTheMetrics() async throws {
        try await withTemporaryDirectory { dir in
            let registry = PrometheusCollectorRegistry()
            let node = try consortium.node(in: dir, metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            func scraped() -> String { String(decoding: registry.emitToBuffer(), as: UTF8.self) }
            #expect(scraped().contains("xiangchain_transactions_expired_total 0"))
            let now = ChainNode.nowMillis()
            let farm = try consortium.identity(.farm)
            let txs = try (0..<3).map { _ in
                try evidenceTx(farm, timestamp: now - node.config.timestampToleranceMs + toleranceLeft)
            }
            for tx in txs { try node.submit(tx) }
            #expect(node.expireStale(nowMillis: now + toleranceLeft + 2_001).count == 3)
            #expect(scraped().contains("xiangchain_transactions_expired_total 3"), "\(scraped())")
            // A sweep that finds nothing adds nothing.
            #expect(node.expireStale(nowMillis: now + toleranceLeft + 10_000).isEmpty)
            #expect(scraped().contains("xiangchain_transactions_expired_total 3"))
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

/// A validator in process that counts the observer's questions about waiting transactions.
private final class CountingSource: BlockSource, Sendable {
    let node: ChainNode
    let asked = Atomic<Int>(0)
    init(node: ChainNode) { self.node = node }
    var name: String { node.config.nodeId }
    func blocks(from: UInt64, limit: Int) async throws -> [UInt8] {
        try await ValidatorSource(node: node).blocks(from: from, limit: limit)
    }
    func submit(_ body: [UInt8]) async throws { try await ValidatorSource(node: node).submit(body) }
    func epochSignatures() async throws -> [UInt64: [ValidatorSignature]] { [:] }
    func height() async throws -> UInt64? { try node.store.tip()?.height }
    func waitingStatus(of txid: Hash256) async throws -> UpstreamTransaction {
        asked.add(1, ordering: .relaxed)
        return node.mempool.contains(txid) ? .pending : .unknown
    }
}
