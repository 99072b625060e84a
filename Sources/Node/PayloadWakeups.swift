import Synchronization

/// Decides when an admitted transaction must wake the consensus loop with `.payloadReady`.
///
/// The event matters only to a leader that defers an empty proposal (`Replica.awaitsPayload`);
/// under load that is never, yet one event per admitted transaction and per gossiped batch
/// meant a hand-off to the consensus thread for each (about a third of the context switches a
/// transaction cost). Admissions now count themselves and send the event only while the loop
/// says its replica waits.
///
/// No wake-up is lost: the loop reads the count before it handles an event (`mark`) and, if the
/// replica then defers, raises `awaiting` before reading the count again (`settled`). An
/// admission increments the count before it reads `awaiting`. With both sequentially
/// consistent, an admission the replica's payload missed either moved the count before the
/// loop's second read (the loop sends the event itself) or reads `awaiting` after it was raised
/// (the admission sends it). Sending it twice is harmless: the second finds nothing deferred.
final class PayloadWakeups: Sendable {
    private let admissions = Atomic<UInt64>(0)
    private let awaiting = Atomic<Bool>(false)

    /// Called after a transaction (or a batch) entered the mempool: whether to send `.payloadReady`.
    func admitted() -> Bool {
        admissions.add(1, ordering: .sequentiallyConsistent)
        return awaiting.load(ordering: .sequentiallyConsistent)
    }

    /// The loop, before it handles an event: the admissions so far, for `settled(after:waits:)`.
    func mark() -> UInt64 { admissions.load(ordering: .sequentiallyConsistent) }

    /// The loop, after it handled an event that left its replica waiting for a payload (`waits`)
    /// or not: whether to send `.payloadReady` itself, because a transaction was admitted since
    /// `mark` that the replica's proposal may have missed.
    func settled(after mark: UInt64, waits: Bool) -> Bool {
        awaiting.store(waits, ordering: .sequentiallyConsistent)
        return waits && admissions.load(ordering: .sequentiallyConsistent) != mark
    }
}
