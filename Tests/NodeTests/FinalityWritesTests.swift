import ChainCore
import Testing

@testable import Node

/// The queue of checked finality signatures waiting to be written (`FinalityWrites`): once per
/// validator and height, written whole, a timer only while something waits and none runs, and
/// the timer writes only what has waited long enough for a commit to carry it.
@Suite struct FinalityWritesTests {
    static func sig(_ validator: String, _ byte: UInt8 = 1) -> ValidatorSignature {
        ValidatorSignature(validator: validator, signature: [byte])
    }

    @Test func aValidatorsSignatureOfAHeightIsQueuedOnce() {
        var q = FinalityWrites()
        #expect(q.isEmpty)
        var full = q.add(height: 5, signature: Self.sig("node1"), nowMillis: 0)
        full = full || q.add(height: 5, signature: Self.sig("node1", 2), nowMillis: 1)
        full = full || q.add(height: 5, signature: Self.sig("node2"), nowMillis: 2)
        full = full || q.add(height: 6, signature: Self.sig("node1"), nowMillis: 3)
        #expect(!full)
        let taken = q.take()
        let emptied = q.isEmpty
        #expect(taken.map(\.height) == [5, 5, 6])
        #expect(taken.map(\.signature) == [Self.sig("node1"), Self.sig("node2"), Self.sig("node1")])
        #expect(emptied)
        // Taken (written): the same one may come again (a peer answering a finality request).
        _ = q.add(height: 5, signature: Self.sig("node1"), nowMillis: 4)
        #expect(q.entries.count == 1)
    }

    @Test func oneTimerAtATimeAndOnlyWhileSomethingWaits() {
        var q = FinalityWrites()
        var timer = q.needsTimer()
        #expect(!timer)
        _ = q.add(height: 1, signature: Self.sig("node1"), nowMillis: 100)
        timer = q.needsTimer()
        #expect(timer)
        timer = q.needsTimer()
        #expect(!timer)
        // Too young when the timer goes off: nothing written, a new timer asked for.
        var fired = q.timerFired(nowMillis: 100 + FinalityWrites.maxAgeMs - 1)
        #expect(fired == nil)
        timer = q.needsTimer()
        #expect(timer)
        // Old enough: everything is written, the later ones too.
        _ = q.add(height: 2, signature: Self.sig("node1"), nowMillis: 130)
        fired = q.timerFired(nowMillis: 100 + FinalityWrites.maxAgeMs)
        #expect(fired?.map(\.height) == [1, 2])
        timer = q.needsTimer()
        #expect(q.isEmpty && !timer)
        // A commit took them before the timer went off: it finds nothing.
        _ = q.add(height: 3, signature: Self.sig("node2"), nowMillis: 200)
        timer = q.needsTimer()
        #expect(timer)
        _ = q.take()
        fired = q.timerFired(nowMillis: 10_000)
        #expect(fired == nil)
        timer = q.needsTimer()
        #expect(!timer)
        // The age counts from the oldest entry queued since the queue was last emptied.
        _ = q.add(height: 4, signature: Self.sig("node2"), nowMillis: 20_000)
        fired = q.timerFired(nowMillis: 20_000 + FinalityWrites.maxAgeMs - 1)
        #expect(fired == nil)
    }

    @Test func aFullQueueAsksToBeWrittenAtOnce() {
        var q = FinalityWrites()
        var full = false
        for h in 1..<UInt64(FinalityWrites.limit) {
            full = full || q.add(height: h, signature: Self.sig("node1"), nowMillis: 0)
        }
        #expect(!full)
        full = q.add(height: UInt64(FinalityWrites.limit), signature: Self.sig("node1"), nowMillis: 0)
        #expect(full)
        let all = q.take()
        #expect(all.count == FinalityWrites.limit)
    }
}
