import ChainCore
import Testing

@testable import Node

/// The queue of checked finality signatures waiting to be written (`FinalityWrites`): once per
/// validator and height, taken whole, one timer at a time and only while something waits, what a
/// failed write took queued again, and a bound.
@Suite struct FinalityWritesTests {
    static func sig(_ validator: String, _ byte: UInt8 = 1) -> ValidatorSignature {
        ValidatorSignature(validator: validator, signature: [byte])
    }

    @Test func aValidatorsSignatureOfAHeightIsQueuedOnce() {
        var q = FinalityWrites()
        #expect(q.isEmpty)
        var full = false
        for (h, s) in [(5, Self.sig("node1")), (5, Self.sig("node1", 2)), (5, Self.sig("node2")), (6, Self.sig("node1"))] {
            let f = q.add(height: UInt64(h), signature: s)
            full = full || f
        }
        #expect(!full)
        let taken = q.take()
        let emptied = q.isEmpty
        #expect(taken.map(\.height) == [5, 5, 6])
        #expect(taken.map(\.signature) == [Self.sig("node1"), Self.sig("node2"), Self.sig("node1")])
        #expect(emptied)
        // Taken (written): the same one may come again (a peer answering a finality request).
        _ = q.add(height: 5, signature: Self.sig("node1"))
        #expect(q.entries.count == 1)
    }

    @Test func oneTimerAtATimeAndOnlyWhileSomethingWaits() {
        var q = FinalityWrites()
        var timer = q.needsTimer()
        #expect(!timer)
        _ = q.add(height: 1, signature: Self.sig("node1"))
        timer = q.needsTimer()
        #expect(timer)
        // One running: no second, however many more are queued.
        _ = q.add(height: 2, signature: Self.sig("node1"))
        timer = q.needsTimer()
        #expect(!timer)
        var fired = q.timerFired()
        #expect(fired.map(\.height) == [1, 2])
        timer = q.needsTimer()
        #expect(q.isEmpty && !timer)
        // A commit took them before the timer went off: it finds nothing, and none is asked for.
        _ = q.add(height: 3, signature: Self.sig("node2"))
        timer = q.needsTimer()
        #expect(timer)
        _ = q.take()
        fired = q.timerFired()
        #expect(fired.isEmpty)
        timer = q.needsTimer()
        #expect(!timer)
        // A timer of an earlier run of the loop is forgotten when a new run starts.
        _ = q.add(height: 4, signature: Self.sig("node2"))
        timer = q.needsTimer()
        q.loopStarted()
        let again = q.needsTimer()
        #expect(timer && again)
    }

    @Test func whatAFailedWriteTookIsQueuedAgainFirst() {
        var q = FinalityWrites()
        _ = q.add(height: 1, signature: Self.sig("node1"))
        _ = q.add(height: 1, signature: Self.sig("node2"))
        let taken = q.take()
        _ = q.add(height: 2, signature: Self.sig("node1"))
        _ = q.add(height: 1, signature: Self.sig("node1"))
        q.putBack(taken)
        #expect(q.entries.map(\.height) == [1, 1, 2])
        #expect(q.entries.map(\.signature.validator) == ["node1", "node2", "node1"])
    }

    @Test func aFullQueueAsksToBeWrittenAtOnce() {
        var q = FinalityWrites()
        var full = false
        for h in 1..<UInt64(FinalityWrites.limit) {
            let f = q.add(height: h, signature: Self.sig("node1"))
            full = full || f
        }
        #expect(!full)
        full = q.add(height: UInt64(FinalityWrites.limit), signature: Self.sig("node1"))
        #expect(full)
        let all = q.take()
        #expect(all.count == FinalityWrites.limit)
    }
}
