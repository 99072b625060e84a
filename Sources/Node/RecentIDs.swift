import ChainCore

/// The ids seen lately, in insertion order: at most `capacity` insertions are remembered (the
/// oldest go first), and each id for its own time. What a node remembers of ids an outsider
/// can make it see (expired transactions, transactions an observer forwarded) lives in one of
/// these, so it cannot grow without bound. A value type: hold it under the owner's lock.
struct RecentIDs {
    private struct Entry {
        let id: Hash256
        let until: Int64
        let serial: Int
    }

    /// Most insertions remembered.
    let capacity: Int
    /// The newest insertion of each id remembered.
    private var latest: [Hash256: (until: Int64, serial: Int)] = [:]
    private var order: [Entry] = []
    private var head = 0
    private var serial = 0

    /// An empty set remembering at most `capacity` insertions.
    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// Ids remembered now (those past their time included, until an insertion drops them).
    var count: Int { latest.count }

    /// Insertion slots in use (for tests of the bound).
    var storage: Int { order.count }

    /// Remembers `id` until `until` (milliseconds; for ever by default); an id inserted again
    /// keeps its later time. Drops, oldest first, the insertions past `capacity` and those whose
    /// time is up at `nowMillis`.
    mutating func insert(_ id: Hash256, until: Int64 = .max, nowMillis: Int64 = .min) {
        guard capacity > 0 else { return }
        serial += 1
        latest[id] = (until, serial)
        order.append(Entry(id: id, until: until, serial: serial))
        while head < order.count, order.count - head > capacity || order[head].until <= nowMillis {
            let old = order[head]
            // Only the id's newest insertion removes it.
            if latest[old.id]?.serial == old.serial { latest[old.id] = nil }
            head += 1
        }
        // The dropped front is reclaimed once it is half the storage.
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    /// Whether `id` is remembered and its time is not up at `nowMillis`.
    func contains(_ id: Hash256, nowMillis: Int64 = .min) -> Bool { (latest[id]?.until ?? .min) > nowMillis }
}
