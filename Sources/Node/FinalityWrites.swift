import ChainCore

/// Finality signatures a validator received and checked, waiting to be written.
///
/// Every chain block earns a finality signature from each of the other validators, each its own
/// message. Written one by one, each was a SQLite write transaction with an `fsync` on the
/// consensus thread — three a block on a four-validator chain, more than the block's own commit.
/// They are queued here instead and written with the next block's commit (`BlockCommit.finality`,
/// no transaction of their own) or, when no block commits soon (an idle chain), together by a
/// timer once the oldest has waited `maxAgeMs`. A signature lost with the queue (the process
/// dies first) is asked for again (`ConsensusService.requestMissingFinality`).
///
/// Loop-confined logic (the consensus loop holds it in a `Mutex`); no clock of its own.
struct FinalityWrites {
    struct Key: Hashable {
        let height: UInt64
        let validator: String
    }

    /// How long a signature may wait for a block commit to carry it before the timer writes it.
    static var maxAgeMs: Int64 { 40 }
    /// Most signatures queued: more are written at once (a validator may send signatures of any
    /// stored height, e.g. when another one catches up on them).
    static var limit: Int { 1024 }

    private(set) var entries: [(height: UInt64, signature: ValidatorSignature)] = []
    private var keys: Set<Key> = []
    private var oldestMillis: Int64 = 0
    private var timerPending = false

    var isEmpty: Bool { entries.isEmpty }

    /// Queues one signature (a second one of the same validator and height is dropped). True when
    /// the queue is full and should be written now.
    mutating func add(height: UInt64, signature: ValidatorSignature, nowMillis: Int64) -> Bool {
        guard keys.insert(Key(height: height, validator: signature.validator)).inserted else { return false }
        if entries.isEmpty { oldestMillis = nowMillis }
        entries.append((height, signature))
        return entries.count >= Self.limit
    }

    /// Everything queued, emptying the queue (to be written).
    mutating func take() -> [(height: UInt64, signature: ValidatorSignature)] {
        defer {
            entries = []
            keys = []
        }
        return entries
    }

    /// True when a timer should be started: something is queued and no timer is running. The
    /// caller starts one and calls `timerFired` when it goes off.
    mutating func needsTimer() -> Bool {
        guard !entries.isEmpty, !timerPending else { return false }
        timerPending = true
        return true
    }

    /// The timer went off: what to write now (everything, once the oldest entry has waited
    /// `maxAgeMs`), or nil (nothing queued, or entries too young: `needsTimer` then asks for a
    /// new timer).
    mutating func timerFired(nowMillis: Int64) -> [(height: UInt64, signature: ValidatorSignature)]? {
        timerPending = false
        guard !entries.isEmpty, nowMillis - oldestMillis >= Self.maxAgeMs else { return nil }
        return take()
    }
}
