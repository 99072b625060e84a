import Consensus
import Synchronization

/// The committed consensus blocks a validator has decided and not yet executed and stored, in
/// commit order, between the consensus loop (which adds them and goes on with the next round)
/// and the executor (which takes them in order on a thread of its own, `ConsensusService`).
///
/// The loop can wait until at most a given number are left (`wait(atMost:)`): before a block that
/// may change the validator set (it runs inline, after all before it), and to keep the executor
/// no more than a few blocks behind. When the executor fails, the waiters are told at once; a
/// cancelled waiter or executor stops waiting. Until a block is stored, its transactions stay in
/// the loop's pending blocks, so proposals and votes keep treating them as taken.
final class CommitQueue: Sendable {
    private struct Waiter {
        let limit: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var waiting: [ConsensusBlock] = []
        /// Added and not yet reported done (waiting, or taken by the executor).
        var unfinished = 0
        var closed = false
        var failure: (any Error)?
        var executor: CheckedContinuation<[ConsensusBlock]?, Never>?
        var waiters: [UInt64: Waiter] = [:]
        var lastWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Blocks added and not yet done.
    var unfinished: Int { state.withLock { $0.unfinished } }

    /// Adds `blocks` (in commit order) for the executor.
    func add(_ blocks: [ConsensusBlock]) {
        guard !blocks.isEmpty else { return }
        let handOff: (CheckedContinuation<[ConsensusBlock]?, Never>, [ConsensusBlock])? = state.withLock { s in
            s.unfinished += blocks.count
            s.waiting += blocks
            guard let executor = s.executor else { return nil }
            s.executor = nil
            defer { s.waiting = [] }
            return (executor, s.waiting)
        }
        if let (executor, taken) = handOff { executor.resume(returning: taken) }
    }

    /// The executor's next blocks: all those waiting, once there is one; nil once the queue is
    /// closed and empty, failed, or the calling task is cancelled.
    func next() async -> [ConsensusBlock]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[ConsensusBlock]?, Never>) in
                let now: [ConsensusBlock]?? = state.withLock { s in
                    if s.failure != nil { return .some(nil) }
                    if !s.waiting.isEmpty {
                        defer { s.waiting = [] }
                        return s.waiting
                    }
                    if s.closed || Task.isCancelled { return .some(nil) }
                    s.executor = c
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let executor = state.withLock { s in
                defer { s.executor = nil }
                return s.executor
            }
            executor?.resume(returning: nil)
        }
    }

    /// The executor stored `count` more of the blocks it took.
    func done(_ count: Int) {
        let ready = state.withLock { s in
            s.unfinished -= count
            let unfinished = s.unfinished
            let ids = s.waiters.filter { $0.value.limit >= unfinished }.map(\.key)
            return ids.compactMap { s.waiters.removeValue(forKey: $0)?.continuation }
        }
        for c in ready { c.resume() }
    }

    /// The executor stopped on `error`: every waiter, now and later, gets it.
    func fail(_ error: any Error) {
        let waiters = state.withLock { s in
            s.failure = error
            defer { s.waiters = [:] }
            return s.waiters.values.map(\.continuation)
        }
        for c in waiters { c.resume(throwing: error) }
    }

    /// No more blocks: the executor ends once it has taken those waiting.
    func close() {
        let executor = state.withLock { s in
            s.closed = true
            guard s.waiting.isEmpty else { return nil as CheckedContinuation<[ConsensusBlock]?, Never>? }
            defer { s.executor = nil }
            return s.executor
        }
        executor?.resume(returning: nil)
    }

    /// Returns once at most `limit` blocks are unfinished; throws the executor's error if it
    /// failed, `CancellationError` if the calling task is cancelled first.
    func wait(atMost limit: Int) async throws {
        let id = state.withLock { s in
            s.lastWaiter += 1
            return s.lastWaiter
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let ready: Result<Void, any Error>? = state.withLock { s in
                    if let failure = s.failure { return .failure(failure) }
                    if s.unfinished <= limit { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters[id] = Waiter(limit: limit, continuation: c)
                    return nil
                }
                if let ready { c.resume(with: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
