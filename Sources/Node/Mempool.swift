import ChainCore
import Execution
import Synchronization

/// The bounded pool of verified transactions waiting for a block.
///
/// An id stays known from admission until its block is committed (also while a block holding
/// it is being built), so a transaction is never admitted twice. A full pool refuses with
/// `mempool_full`; nothing is ever dropped silently.
public final class Mempool: Sendable {
    struct State {
        var queue: [VerifiedTransaction] = []
        var head = 0
        var known: Set<Hash256> = []
    }

    private let state = Mutex(State())
    /// Most transactions held (queued plus in blocks being built).
    public let capacity: Int

    /// Creates a pool.
    public init(capacity: Int) { self.capacity = capacity }

    /// Adds a verified transaction.
    public func add(_ tx: VerifiedTransaction) throws(ChainError) {
        try state.withLock { s throws(ChainError) in
            guard !s.known.contains(tx.id) else {
                throw ChainError("duplicate_tx", "transaction \(tx.id.hex) was already accepted")
            }
            guard s.known.count < capacity else {
                throw ChainError("mempool_full", "the mempool holds \(capacity) transactions; retry shortly")
            }
            s.known.insert(tx.id)
            s.queue.append(tx)
        }
    }

    /// True when the id is waiting or in a block being built.
    public func contains(_ id: Hash256) -> Bool { state.withLock { $0.known.contains(id) } }

    /// Transactions waiting (not yet taken for a block).
    public var queued: Int { state.withLock { $0.queue.count - $0.head } }

    /// All ids held.
    public var count: Int { state.withLock { $0.known.count } }

    /// Takes up to `max` transactions, oldest first, for a block. They stay known until
    /// `release` is called after their block committed.
    public func take(max: Int) -> [VerifiedTransaction] {
        state.withLock { s in
            let end = min(s.queue.count, s.head + max)
            let batch = Array(s.queue[s.head..<end])
            s.head = end
            if s.head > 4096, s.head * 2 > s.queue.count {
                s.queue.removeFirst(s.head)
                s.head = 0
            }
            return batch
        }
    }

    /// Forgets ids whose block committed.
    public func release(_ ids: [Hash256]) {
        state.withLock { s in
            for id in ids { s.known.remove(id) }
        }
    }
}
