import Testing

@testable import Node

/// Admissions wake the consensus loop only while its replica defers a proposal for want of a
/// payload, and no admission the replica's proposal missed is left without a wake-up.
@Suite struct PayloadWakeupsTests {
    @Test func admissionsDoNotWakeALoopThatIsNotWaiting() {
        let w = PayloadWakeups()
        #expect(!w.admitted())
        let mark = w.mark()
        #expect(!w.settled(after: mark, waits: false))
        #expect(!w.admitted())
    }

    @Test func aWaitingLoopIsWokenByTheNextAdmission() {
        let w = PayloadWakeups()
        let mark = w.mark()
        // The replica deferred and nothing arrived meanwhile: nothing to do yet.
        #expect(!w.settled(after: mark, waits: true))
        #expect(w.admitted())
        #expect(w.admitted())
        // Once it proposed, admissions stop waking it.
        #expect(!w.settled(after: w.mark(), waits: false))
        #expect(!w.admitted())
    }

    /// The race the flag alone would lose: a transaction admitted after the replica looked at
    /// the mempool but before the loop said it waits. Its admission saw no waiter, so the loop
    /// sends the event itself.
    @Test func anAdmissionWhileTheLoopDecidedIsNotLost() {
        let w = PayloadWakeups()
        let mark = w.mark()
        #expect(!w.admitted())
        #expect(w.settled(after: mark, waits: true))
    }
}
