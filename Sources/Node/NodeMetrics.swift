import ChainCore
import CoreMetrics
import Foundation

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

    /// Metrics recorded into `factory`.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        blockCommit = CoreMetrics.Timer(label: "xiangchain_block_commit_seconds", factory: factory)
        sqliteCommit = CoreMetrics.Timer(label: "xiangchain_sqlite_commit_seconds", factory: factory)
        admitted = Counter(label: "xiangchain_transactions_admitted_total", factory: factory)
        blocks = Counter(label: "xiangchain_blocks_committed_total", factory: factory)
        committedTransactions = Counter(label: "xiangchain_transactions_committed_total", factory: factory)
        // Present (at 0) from the start, so that a rate over it is defined before the first refusal.
        refused(.mempoolFull, by: 0)
    }

    /// Counts a refused transaction by its error code.
    func refused(_ code: ErrorCode, by amount: Int = 1) {
        Counter(label: "xiangchain_transactions_refused_total", dimensions: [("code", code.rawValue)], factory: factory)
            .increment(by: amount)
    }

    /// Counts one committed block of `transactions` transactions.
    func committed(transactions: Int) {
        blocks.increment()
        committedTransactions.increment(by: transactions)
    }

    /// Counts an admission attempt's outcome.
    func admission(_ error: (any Error)?) {
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
            let d = ContinuousClock.now - start
            timer.recordNanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
        }
        return try body()
    }
}
