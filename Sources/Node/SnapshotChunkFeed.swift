import ChainCore
import Foundation

/// The checked chunks of a snapshot between the downloads and the load (`SnapshotJoin`): the
/// downloads claim indexes in order, at most `window` ahead of the chunk the load takes next,
/// so at most `window` chunks wait here (each at most `SnapshotChunk.maxBytes`); the load takes
/// them in order, blocking its thread until the next one has arrived. The first failure on
/// either side ends both: `claim` answers nil, `take` throws it.
final class SnapshotChunkFeed: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var ready: [Int: CheckedSnapshotChunk] = [:]
    private var claimed = 0
    private var consumed = 0
    private var failure: (any Error)?
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Number of chunks.
    let count: Int
    /// Chunks claimed ahead of the one the load takes next, at most.
    let window: Int

    /// A feed of `count` chunks, claimed at most `window` (at least 1) ahead of the load.
    init(count: Int, window: Int) {
        self.count = count
        self.window = max(1, window)
    }

    /// The next index to fetch, once it is within the window; nil when every index is claimed
    /// or the feed failed. Task cancellation fails the feed.
    func claim() async -> Int? {
        while true {
            if let answer = nextClaim() { return answer }
            await withTaskCancellationHandler {
                await withCheckedContinuation { park($0) }
            } onCancel: {
                fail(CancellationError())
            }
        }
    }

    /// The index claimed, `.some(nil)` when there is none to claim, nil when the window is full.
    private func nextClaim() -> Int?? {
        condition.lock()
        defer { condition.unlock() }
        if failure != nil || claimed >= count { return .some(nil) }
        guard claimed < consumed + window else { return nil }
        claimed += 1
        return claimed - 1
    }

    /// Resumes `c` when the window moves or the feed fails (now, if that happened since `nextClaim`).
    private func park(_ c: CheckedContinuation<Void, Never>) {
        condition.lock()
        if failure != nil || claimed < consumed + window {
            condition.unlock()
            c.resume()
        } else {
            waiting.append(c)
            condition.unlock()
        }
    }

    /// Hands over a checked chunk of a claimed index.
    func deliver(_ chunk: CheckedSnapshotChunk) {
        condition.lock()
        if failure == nil, chunk.index >= consumed { ready[chunk.index] = chunk }
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the feed with `error` (the first failure is kept): claims answer nil, the load throws it.
    func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        ready.removeAll()
        let woken = waiting
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
        for c in woken { c.resume() }
    }

    /// Chunk `index` (the next in order) once it has arrived; blocks the calling thread until then
    /// (call it off the cooperative pool). Throws the feed's failure.
    func take(_ index: Int) throws -> CheckedSnapshotChunk {
        condition.lock()
        while ready[index] == nil && failure == nil { condition.wait() }
        guard failure == nil, let chunk = ready.removeValue(forKey: index) else {
            let error = failure ?? CancellationError()
            condition.unlock()
            throw error
        }
        consumed = index + 1
        let woken = waiting
        waiting.removeAll()
        condition.unlock()
        for c in woken { c.resume() }
        return chunk
    }

    /// Chunks held right now (for tests of the bound).
    var held: Int {
        condition.lock()
        defer { condition.unlock() }
        return ready.count
    }
}
