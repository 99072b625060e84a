import ChainCore

/// What the replay check needs most often, answered without a read transaction: "this
/// transaction is not committed". Admission, gossip, proposal validation and block commits ask
/// the store whether transactions are committed; almost always they are not, and each answer was
/// a SQLite read transaction with two index probes (a tenth of a validator's CPU at max load in a
/// profile of 2026-12-06).
///
/// The filter holds the ids of the transactions this store committed since it was opened, in two
/// generations of Bloom filters (a set that may answer "maybe" for an id it does not hold, never
/// "no" for one it does), and `floor`: the highest timestamp of a committed transaction the
/// filters may not hold (those committed before the store was opened, and those of dropped
/// generations). So a transaction whose timestamp is above `floor` and that neither filter holds
/// is not committed: exact, whatever the clocks. Anything else (an older timestamp, a "maybe")
/// goes to the database as before. When a generation is full it replaces the older one, whose
/// highest timestamp raises `floor`: memory stays fixed (two filters of `generation` ids, ten
/// bits each), and at a steady rate `floor` trails the newest timestamps by one generation's time.
struct RecentCommits: Sendable {
    /// A Bloom filter of 32-byte hashes: `capacity` × 10 bits and 7 probes (about 1 % false
    /// "maybe" when full). The probes come from the hash's own bytes (double hashing): ids are
    /// hash outputs already; an id crafted to collide costs only a database read.
    struct Bloom: Sendable {
        private(set) var words: [UInt64]
        private(set) var count = 0
        let capacity: Int

        init(capacity: Int) {
            self.capacity = max(1, capacity)
            words = [UInt64](repeating: 0, count: (self.capacity * 10 + 63) / 64)
        }

        private func probes(_ id: Hash256) -> (UInt64, UInt64, UInt64) {
            var a: UInt64 = 0
            var b: UInt64 = 0
            let bytes = id.bytes
            for i in 0..<8 {
                a = a << 8 | UInt64(bytes[i])
                b = b << 8 | UInt64(bytes[8 + i])
            }
            return (a, b | 1, UInt64(words.count * 64))
        }

        mutating func insert(_ id: Hash256) {
            let (a, b, m) = probes(id)
            for i in 0..<UInt64(7) {
                let bit = (a &+ i &* b) % m
                words[Int(bit >> 6)] |= 1 << (bit & 63)
            }
            count += 1
        }

        func mayContain(_ id: Hash256) -> Bool {
            let (a, b, m) = probes(id)
            for i in 0..<UInt64(7) {
                let bit = (a &+ i &* b) % m
                if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
            }
            return true
        }
    }

    /// Highest timestamp of a committed transaction the filters may not hold (`Int64.min`: none;
    /// `Int64.max`: unknown, so every check reads the database).
    private(set) var floor: Int64
    private var current: Bloom
    private var currentMax = Int64.min
    private var previous: Bloom?
    private var previousMax = Int64.min
    /// Ids a generation holds before it replaces the older one.
    let generation: Int

    /// An empty filter over a store whose committed transactions' timestamps are at most `floor`.
    init(floor: Int64, generation: Int = 1 << 20) {
        self.floor = floor
        self.generation = max(1, generation)
        current = Bloom(capacity: self.generation)
    }

    /// Records a transaction being committed (before its commit is written: a commit that then
    /// fails leaves only a "maybe").
    mutating func insert(_ id: Hash256, timestamp: Int64) {
        if current.count >= generation {
            floor = max(floor, previousMax)
            previous = current
            previousMax = currentMax
            current = Bloom(capacity: generation)
            currentMax = .min
        }
        current.insert(id)
        currentMax = max(currentMax, timestamp)
    }

    /// False when a transaction with this id and timestamp is certainly not committed; true when
    /// the database must say.
    func mayBeCommitted(_ id: Hash256, timestamp: Int64) -> Bool {
        guard timestamp > floor else { return true }
        return current.mayContain(id) || (previous?.mayContain(id) ?? false)
    }
}
