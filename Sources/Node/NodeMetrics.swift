import ChainCore
import CoreMetrics
import Foundation
import Synchronization

/// The node's operational metrics, recorded through swift-metrics into the factory a node is
/// given (the Prometheus registry that `GET /metrics` emits; `NOOPMetricsHandler` when none).
/// Names follow Prometheus' conventions (`docs/deploy.md`, metrics): `_total` counters,
/// `_seconds` histograms. Every label takes values from a fixed, small set (error codes, route
/// classes, statuses), so an outsider cannot grow the number of series.
public final class NodeMetrics: Sendable {
    /// Where the metrics go.
    public let factory: any MetricsFactory
    /// Executing and committing one block (the node's commit latency), seconds.
    let blockCommit: CoreMetrics.Timer
    /// The SQLite transaction that stores one block, seconds.
    let sqliteCommit: CoreMetrics.Timer
    /// Transactions admitted (into this node's mempool, or forwarded by an observer).
    let admitted: Counter
    /// Blocks committed by this node.
    let blocks: Counter
    /// Transactions committed by this node.
    let committedTransactions: Counter
    /// Transactions this node's mempool dropped for age (`tx_expired`).
    let expiredTransactions: Counter
    /// Submission-stream messages refused for lack of room by the event loop that read them
    /// (also counted in the refusals by code).
    let streamRefusedOnRead: Counter
    /// From a transaction's admission by this node to its commit on this node, seconds.
    let admissionToCommit: CoreMetrics.Timer
    /// When each transaction this node admitted and has not yet seen committed was admitted.
    /// Bounded by `maxAwaitingCommit`; entries of transactions that never commit (expired out of
    /// the mempool) are dropped once older than `awaitingLimit`.
    let awaitingCommit = Mutex(AwaitingCommit())
    struct AwaitingCommit {
        var started: [Hash256: ContinuousClock.Instant] = [:]
        /// When entries older than `awaitingLimit` were last dropped (at most once a minute, so
        /// that a full table does not cost a scan per admission).
        var lastSweep: ContinuousClock.Instant?
    }
    /// Most admitted transactions whose commit is awaited for the histogram (beyond it, newly
    /// admitted ones are not timed).
    let maxAwaitingCommit: Int
    /// How long an admitted transaction is awaited before it counts as never committing.
    static let awaitingLimit: Duration = .seconds(1_800)

    /// Metrics recorded into `factory`.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance, maxAwaitingCommit: Int = 100_000) {
        self.factory = factory
        self.maxAwaitingCommit = maxAwaitingCommit
        admissionToCommit = CoreMetrics.Timer(label: "xiangchain_admission_to_commit_seconds", factory: factory)
        blockCommit = CoreMetrics.Timer(label: "xiangchain_block_commit_seconds", factory: factory)
        sqliteCommit = CoreMetrics.Timer(label: "xiangchain_sqlite_commit_seconds", factory: factory)
        admitted = Counter(label: "xiangchain_transactions_admitted_total", factory: factory)
        blocks = Counter(label: "xiangchain_blocks_committed_total", factory: factory)
        committedTransactions = Counter(label: "xiangchain_transactions_committed_total", factory: factory)
        expiredTransactions = Counter(label: "xiangchain_transactions_expired_total", factory: factory)
        streamRefusedOnRead = Counter(label: "xiangchain_stream_refused_on_read_total", factory: factory)
        // Present (at 0) from the start, so that a rate over it is defined before the first refusal.
        refused(.mempoolFull, by: 0)
    }

    /// Counts a refused transaction by its error code.
    func refused(_ code: ErrorCode, by amount: Int = 1) {
        refusedCounter(code).increment(by: amount)
    }

    /// The counter of refusals with `code`, made once (making one asks the registry under its lock
    /// each time: at twice the sustainable rate most submissions are refusals).
    private func refusedCounter(_ code: ErrorCode) -> Counter {
        if let counter = refusedCounters.withLock({ $0[code] }) { return counter }
        let counter = Counter(
            label: "xiangchain_transactions_refused_total", dimensions: [("code", code.rawValue)], factory: factory)
        // Codes come from the fixed catalogue, so the table stays as small as the series.
        refusedCounters.withLock { $0[code] = counter }
        return counter
    }
    /// The refusal counters made so far, by code.
    private let refusedCounters = Mutex<[ErrorCode: Counter]>([:])

    /// Counts a submission-stream message refused by the event loop that read it.
    public func refusedOnRead() {
        streamRefusedOnRead.increment()
    }

    /// Counts transactions the mempool dropped for age.
    func expired(_ count: Int) {
        guard count > 0 else { return }
        expiredTransactions.increment(by: count)
    }

    /// Counts one committed block of `transactions` transactions.
    func committed(transactions: Int) {
        blocks.increment()
        committedTransactions.increment(by: transactions)
    }

    /// Starts timing a transaction this node is admitting, up to its commit; false when it is not
    /// timed (already timed, or too many awaited).
    @discardableResult
    func admitted(_ id: Hash256, at now: ContinuousClock.Instant = .now) -> Bool {
        awaitingCommit.withLock { a in
            if a.started.count >= maxAwaitingCommit, a.lastSweep.map({ now - $0 >= .seconds(60) }) ?? true {
                a.started = a.started.filter { now - $0.value < Self.awaitingLimit }
                a.lastSweep = now
            }
            guard a.started.count < maxAwaitingCommit, a.started[id] == nil else { return false }
            a.started[id] = now
            return true
        }
    }

    /// Stops timing a transaction whose admission failed.
    func forget(_ id: Hash256) {
        _ = awaitingCommit.withLock { $0.started.removeValue(forKey: id) }
    }

    /// Records the admission-to-commit time of those of `ids` this node admitted.
    func committed(ids: [Hash256], at now: ContinuousClock.Instant = .now) {
        let starts = awaitingCommit.withLock { a -> [ContinuousClock.Instant] in
            guard !a.started.isEmpty else { return [] }
            return ids.compactMap { a.started.removeValue(forKey: $0) }
        }
        for start in starts { admissionToCommit.recordNanoseconds(Self.nanoseconds(now - start)) }
    }

    /// Transactions whose commit is awaited for the admission-to-commit histogram.
    var awaitingCommitCount: Int { awaitingCommit.withLock { $0.started.count } }

    static func nanoseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    /// Counts an admission attempt's outcome (a refusal by its code).
    public func admission(_ error: (any Error)?) {
        guard let error else {
            admitted.increment()
            return
        }
        refused((error as? ChainError)?.code ?? .internalError)
    }

    /// Counts one HTTP request of `routeClass` answered with `status`; a 429 also counts as a
    /// rate-limit refusal of that class.
    public func httpRequest(routeClass: String, status: Int) {
        Counter(
            label: "xiangchain_http_requests_total", dimensions: [("route", routeClass), ("status", String(status))],
            factory: factory
        ).increment()
        if status == 429 {
            Counter(label: "xiangchain_rate_limited_total", dimensions: [("route", routeClass)], factory: factory).increment()
        }
    }

    /// Sets a gauge (values computed when the metrics are read: height, mempool, peers).
    public func gauge(_ name: String, _ value: Double, _ dimensions: [(String, String)] = []) {
        Gauge(label: name, dimensions: dimensions, factory: factory).record(value)
    }

    /// Runs `body`, recording its duration in `timer`.
    func timed<T>(_ timer: CoreMetrics.Timer, _ body: () throws -> T) rethrows -> T {
        let start = ContinuousClock.now
        defer {
            timer.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - start))
        }
        return try body()
    }
}
