import ChainCore

/// Finality signatures a validator received and checked, waiting to be written.
///
/// Every chain block earns a finality signature from each of the other validators, each its own
/// message. Written one by one, each was a SQLite write transaction with an `fsync` on the
/// consensus thread — three a block on a four-validator chain, more than the block's own commit.
/// They are queued here instead and written with the next block's commit (`BlockCommit.finality`,
/// no transaction of their own), or all together when the loop's short timer goes off first
/// (`ConsensusService.finalityWriteDelayMs` after the first one was queued: the others' signatures
/// of a block arrive within moments of each other). A reader of a block's signatures (a proof,
/// block sync) sees them that much later than before, about 10 ms at most on an idle chain. One
/// lost with the queue (the process dies first) leaves its block short of it; a block short of a
/// quorum is asked for again (`ConsensusService.requestMissingFinality`).
///
/// Loop-confined logic (the consensus loop holds it in a `Mutex`).
struct FinalityWrites {
    struct Key: Hashable {
        let height: UInt64
        let validator: String
    }

    /// Most signatures queued: more are written at once (a validator may send signatures of any
    /// stored height, e.g. when another one catches up on them).
    static var limit: Int { 1024 }

    private(set) var entries: [(height: UInt64, signature: ValidatorSignature)] = []
    private var keys: Set<Key> = []
    private var timerPending = false

    var isEmpty: Bool { entries.isEmpty }

    /// Queues one signature (a second one of the same validator and height is dropped). True when
    /// the queue is full and should be written now.
    mutating func add(height: UInt64, signature: ValidatorSignature) -> Bool {
        guard keys.insert(Key(height: height, validator: signature.validator)).inserted else { return false }
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

    /// Queues again what a failed write had taken (ahead of anything queued since).
    mutating func putBack(_ list: [(height: UInt64, signature: ValidatorSignature)]) {
        let later = take()
        for (height, signature) in list + later { _ = add(height: height, signature: signature) }
    }

    /// True when a timer should be started: something is queued and no timer is running. The
    /// caller starts one and calls `timerFired` when it goes off.
    mutating func needsTimer() -> Bool {
        guard !entries.isEmpty, !timerPending else { return false }
        timerPending = true
        return true
    }

    /// The timer went off: everything queued, to be written (empty when a commit took it first).
    mutating func timerFired() -> [(height: UInt64, signature: ValidatorSignature)] {
        timerPending = false
        return take()
    }

    /// A loop starting: no timer of an earlier run is pending any more.
    mutating func loopStarted() { timerPending = false }
}
