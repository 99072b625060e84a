import ChainCore
import Dispatch
import Synchronization

/// Runs password hashing (PBKDF2, hundreds of milliseconds of CPU each) off Swift's cooperative
/// thread pool, which consensus and every request share: on `threads` threads of its own, with
/// at most `maxWaiting` calls waiting; beyond it callers are refused at once (`too_many_requests`).
public final class HashingQueue: Sendable {
    let queues: [DispatchQueue]
    let next = Atomic<Int>(0)
    let waiting = Atomic<Int>(0)
    /// Most calls queued or running.
    public let maxWaiting: Int

    /// A queue of `threads` threads (default 1: a 2-core machine keeps a core for the chain).
    public init(threads: Int = 1, maxWaiting: Int = 16) {
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "xiangchain.hashing.\($0)") }
        self.maxWaiting = maxWaiting
    }

    /// Runs `work` on the queue's threads.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard waiting.add(1, ordering: .relaxed).newValue <= maxWaiting else {
            waiting.subtract(1, ordering: .relaxed)
            throw ChainError(.tooManyRequests, "too many sign-ins are being checked; retry in a moment")
        }
        defer { waiting.subtract(1, ordering: .relaxed) }
        let queue = queues[next.add(1, ordering: .relaxed).oldValue % queues.count]
        return try await OffPool.run(on: queue, work)
    }
}
