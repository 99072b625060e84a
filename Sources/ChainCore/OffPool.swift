import Dispatch

/// Blocking work — SQLite with its fsync, a file read, a process's exit, a contract query up to its
/// fuel — run on a thread of its own while the calling task waits without holding a thread of
/// Swift's cooperative pool, which consensus and every request share.
///
/// Not on `DispatchQueue.global()`: on Linux the cooperative pool *is* libdispatch's global
/// thread pool (as many threads as cores), and so is every concurrent queue that targets it. Two
/// calls blocking there on a 2-core machine left no thread for any task; libdispatch adds a
/// thread about once a second, so the node's tasks stalled ~1 s per blocked call
/// (`OffPoolTests.blockingWorkLeavesThePoolFree`). A serial queue is served by the "overcommit"
/// pool, which starts a thread whenever all are busy — so each call gets a serial queue. The
/// number of calls at once is bounded by the callers (one pruner, a few gated queries).
public enum OffPool {
    /// `work` on `queue` (by default a serial queue of its own); its result or its error. A
    /// `work` that cannot throw gives a call that cannot throw.
    public static func run<T: Sendable, E: Error>(
        on queue: DispatchQueue? = nil, _ work: @escaping @Sendable () throws(E) -> T
    ) async throws(E) -> T {
        let queue = queue ?? DispatchQueue(label: "xiangchain.off-pool")
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(E) -> T in try work() }) }
        }
        return try result.get()
    }
}
