import ChainCore
import Execution
import Synchronization

/// The bounded pool of verified transactions waiting for a block.
///
/// A transaction stays in the pool, in arrival order, until the block that holds it commits
/// (`remove`). Block builders `peek` at the oldest ones, skipping those already in blocks that are
/// proposed but not yet committed; so a proposal that dies loses nothing, and an id is never
/// admitted twice. A full pool refuses with `mempool_full`. The only transactions dropped are
/// those whose timestamp fell out of the admission tolerance before a block took them (`expire`);
/// the pool remembers the last `capacity` of their ids (`isExpired`), so that a client asking
/// after one learns it expired rather than that it is unknown (memory only, like the pool).
public final class Mempool: Sendable {
    struct State {
        var entries: [VerifiedTransaction?] = []
        var head = 0
        var position: [Hash256: Int] = [:]
        /// Ids dropped for age, the last `capacity` of them.
        var expired: RecentIDs
        /// Ids removed because their block committed, the last `capacity` of them: an admission
        /// that checked the store just before that commit cannot put one back (`removeCommitted`).
        var committed: RecentIDs

        mutating func remove(_ ids: some Sequence<Hash256>) {
            for id in ids {
                if let p = position.removeValue(forKey: id) { entries[p] = nil }
            }
            while head < entries.count, entries[head] == nil { head += 1 }
            if head > 4096, head * 2 > entries.count {
                entries.removeFirst(head)
                head = 0
                for (i, tx) in entries.enumerated() {
                    if let tx { position[tx.id] = i }
                }
            }
        }
    }

    private let state: Mutex<State>
    /// Most transactions held.
    public let capacity: Int
    /// Most transactions admitted now (at most `capacity`): the node lowers it to about the
    /// transactions its chain commits in a few seconds (`CommitRate`), so that overload is refused
    /// at once instead of queued into seconds of latency.
    private let limit: Atomic<Int>

    /// Creates a pool.
    public init(capacity: Int) {
        self.capacity = capacity
        state = Mutex(State(expired: RecentIDs(capacity: capacity), committed: RecentIDs(capacity: capacity)))
        limit = Atomic(capacity)
    }

    /// Most transactions admitted now.
    public var admissionLimit: Int { limit.load(ordering: .relaxed) }

    /// Sets how many transactions are admitted now (clamped to 1...capacity).
    public func setAdmissionLimit(_ n: Int) { limit.store(min(capacity, max(1, n)), ordering: .relaxed) }

    /// Adds a verified transaction a client submitted: refused with `mempool_full` once the pool
    /// holds the admission limit (`setAdmissionLimit`).
    public func add(_ tx: VerifiedTransaction) throws(ChainError) {
        try insert(tx, limit: admissionLimit)
    }

    /// Adds a verified transaction another validator gossiped: bounded by the pool's capacity, not
    /// by the admission limit. That limit refuses clients so that overload is turned away at once
    /// instead of queued; a gossiped transaction is already queued — its validator admitted it and
    /// will propose it — so dropping it here turns nothing away. It would only mean that its
    /// verification, skipped now, falls on the consensus thread when a proposal brings it (serial,
    /// on the round's critical path), and that it waits for its own validator to lead or for the
    /// next gossip round instead of being proposable by every leader.
    public func addGossiped(_ tx: VerifiedTransaction) throws(ChainError) {
        try insert(tx, limit: capacity)
    }

    /// Whether a gossiped transaction can be added now (`addGossiped`): a cheap check made before
    /// a gossiped batch is verified.
    public var hasRoomForGossip: Bool { count < capacity }

    private func insert(_ tx: VerifiedTransaction, limit: Int) throws(ChainError) {
        try state.withLock { s throws(ChainError) in
            guard s.position[tx.id] == nil else {
                throw ChainError(.duplicateTx, "transaction \(tx.id.hex) was already accepted")
            }
            guard !s.expired.contains(tx.id) else { throw Self.expiredError(tx.id) }
            guard !s.committed.contains(tx.id) else {
                throw ChainError(.duplicateTx, "transaction \(tx.id.hex) is already committed")
            }
            guard s.position.count < limit else {
                throw ChainError(.mempoolFull, "the mempool holds \(limit) transactions; retry shortly")
            }
            s.position[tx.id] = s.entries.count
            s.entries.append(tx)
        }
    }

    /// Takes the verified transactions of a proposal this node validated that it did not hold yet
    /// (they reached it in the leader's block before the gossip did). Holding them means the gossip
    /// arriving later is recognised and not verified a second time, and a transaction whose block
    /// dies stays proposable here. Proposals are bounded (a block's transactions), so the pool may
    /// exceed its capacity by them, up to twice its capacity; past that they are not kept (the
    /// gossip then costs a verification again, nothing is lost). Returns how many were taken.
    @discardableResult
    public func adopt(_ txs: [VerifiedTransaction]) -> Int {
        state.withLock { s in
            var taken = 0
            for tx in txs where s.position[tx.id] == nil && !s.committed.contains(tx.id) && s.position.count < 2 * capacity {
                s.position[tx.id] = s.entries.count
                s.entries.append(tx)
                taken += 1
            }
            return taken
        }
    }

    /// Fails with `mempool_full` when no transaction can be added now: a cheap check made before
    /// the signature is verified, so that overload is refused without spending CPU on it.
    public func checkRoom() throws(ChainError) { _ = try room() }

    /// How many transactions can be added now (at least 1), or `mempool_full` as `checkRoom()`:
    /// for a reader of many submissions at once, which refuses those beyond the room before
    /// verifying them (they would be refused after it).
    public func room() throws(ChainError) -> Int {
        let limit = admissionLimit
        let held = count
        guard held < limit else { throw Self.fullError(limit: limit) }
        return limit - held
    }

    /// The refusal for lack of room.
    public var fullError: ChainError { Self.fullError(limit: admissionLimit) }

    static func fullError(limit: Int) -> ChainError {
        ChainError(.mempoolFull, "the mempool holds \(limit) transactions; retry shortly")
    }

    /// True when the id is waiting.
    public func contains(_ id: Hash256) -> Bool { state.withLock { $0.position[id] != nil } }

    /// The waiting transaction with this id.
    public func transaction(_ id: Hash256) -> VerifiedTransaction? {
        state.withLock { s in s.position[id].flatMap { s.entries[$0] } }
    }

    /// Transactions held.
    public var count: Int { state.withLock { $0.position.count } }

    /// Up to `max` of the oldest transactions whose ids are not in `excluding` and whose timestamp
    /// is not before `notBefore` and before `signedBefore` (milliseconds); they stay in the pool.
    public func peek(max: Int, excluding: Set<Hash256> = [], notBefore: Int64 = .min, signedBefore: Int64 = .max)
        -> [VerifiedTransaction]
    {
        state.withLock { s in
            var out: [VerifiedTransaction] = []
            var i = s.head
            while i < s.entries.count, out.count < max {
                if let tx = s.entries[i], tx.body.timestamp >= notBefore, tx.body.timestamp < signedBefore,
                    !excluding.contains(tx.id)
                {
                    out.append(tx)
                }
                i += 1
            }
            return out
        }
    }

    /// Drops the transactions whose timestamp is before `cutoff` (milliseconds), except those in
    /// `keeping` (held by blocks that may still commit): past the admission tolerance no block may
    /// hold them any more, so they would wait for ever and make every proposal holding them fail
    /// validation. Their ids are remembered as expired (`isExpired`) in the same step, so a look
    /// finds each id in the pool or among the expired, never in neither. Returns their ids.
    @discardableResult
    public func expire(before cutoff: Int64, keeping: Set<Hash256> = []) -> [Hash256] {
        state.withLock { s in
            var stale: [Hash256] = []
            for case let tx? in s.entries[s.head...] where tx.body.timestamp < cutoff && !keeping.contains(tx.id) {
                stale.append(tx.id)
            }
            guard !stale.isEmpty else { return [] }
            s.remove(stale)
            for id in stale where !s.expired.contains(id) { s.expired.insert(id) }
            return stale
        }
    }

    /// True when a waiting transaction's timestamp is before `cutoff` (milliseconds).
    public func holdsAny(before cutoff: Int64) -> Bool {
        state.withLock { s in s.entries[s.head...].contains { ($0?.body.timestamp ?? .max) < cutoff } }
    }

    /// The error of a transaction dropped for age, wherever it is reported (admission, a wait, a look-up).
    public static func expiredError(_ id: Hash256) -> ChainError {
        ChainError(
            .txExpired,
            "transaction \(id.hex) waited past the timestamp tolerance and was dropped without being committed; sign it again with a new timestamp"
        )
    }

    /// True when `id` was dropped for age (`expire`) and is among the last `capacity` such ids.
    public func isExpired(_ id: Hash256) -> Bool { state.withLock { $0.expired.contains(id) } }

    /// Forgets transactions.
    public func remove(_ ids: some Sequence<Hash256>) {
        state.withLock { s in s.remove(ids) }
    }

    /// Forgets transactions whose block committed (or that turned out to be committed already),
    /// and refuses them from now on (the last `capacity` such ids). Admission checks the store
    /// and then adds, outside the lock of the block being committed: without this, a transaction
    /// checked just before its block's commit and added just after it would wait here as if
    /// uncommitted, and every block this validator proposed with it would be refused.
    public func removeCommitted(_ ids: some Collection<Hash256>) {
        state.withLock { s in
            for id in ids { s.committed.insert(id) }
            s.remove(ids)
        }
    }

    /// Whether `id` left the pool with its block's commit lately (`removeCommitted`).
    public func wasCommitted(_ id: Hash256) -> Bool { state.withLock { $0.committed.contains(id) } }
}

/// The chain's recent commit rate, and from it the mempool's admission limit: about
/// `queueSeconds` of commits, never below `floor` (a block or two) nor above the capacity.
///
/// Every validator's mempool holds nearly every waiting transaction (gossip), so its size is the
/// network's queue, and size ÷ commit rate is how long a transaction admitted now waits. A fixed
/// capacity of 10,000 was 8–10 s of this machine's throughput: under overload every client waited
/// that long. Bounding the queue by time refuses the excess at once (503 with `Retry-After`),
/// spends no CPU verifying what would wait for seconds, and leaves throughput as it was.
final class CommitRate: Sendable {
    /// Seconds of commits the mempool admits.
    let queueSeconds: Double
    /// The lowest admission limit.
    let floor: Int
    /// Committed transactions per second of the last `span` seconds (ring of one-second buckets).
    private let buckets = Mutex<(second: Int64, counts: [Int])>((0, Array(repeating: 0, count: CommitRate.span)))
    static var span: Int { 5 }

    init(queueSeconds: Double, floor: Int) {
        self.queueSeconds = queueSeconds
        self.floor = floor
    }

    /// Records `count` committed transactions at `nowMillis`; returns the admission limit now.
    func record(_ count: Int, nowMillis: Int64) -> Int {
        let perSecond = buckets.withLock { b -> Double in
            let second = nowMillis / 1000
            let n = Int64(Self.span)
            if second > b.second {
                // Clear the buckets of the seconds that passed without commits.
                for s in (max(b.second + 1, second - n + 1))...second { b.counts[Int(s % n)] = 0 }
                b.second = second
            }
            if second > b.second - n { b.counts[Int(second % n)] += count }
            // The current second is partial: average over the full seconds before it, and it.
            let elapsed = Double(Self.span - 1) + Double(nowMillis % 1000) / 1000
            return Double(b.counts.reduce(0, +)) / max(1, elapsed)
        }
        return max(floor, Int(perSecond * queueSeconds))
    }
}
