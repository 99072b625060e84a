import ChainCore
import Synchronization
import Testing

@testable import Node

/// An observer's record of the transactions it forwarded is bounded in number and in time: an
/// outsider submitting without end cannot grow it, and ids leave it when their time is up.
@Suite struct ForwardedTransactionsTests {
    func id(_ i: Int) -> Hash256 { Hash256.sha256(Array("tx \(i)".utf8)) }

    @Test func keepsAnIdForItsTimeOnly() {
        let log = ForwardedTransactions()
        log.add(id(1), nowMillis: 1_000, keepMillis: 500)
        #expect(log.contains(id(1), nowMillis: 1_499))
        #expect(!log.contains(id(1), nowMillis: 1_500))
        #expect(!log.contains(id(2), nowMillis: 1_000))
        // A later add drops what is past its time.
        log.add(id(2), nowMillis: 2_000, keepMillis: 500)
        #expect(log.count == 1)
    }

    @Test func holdsAtMostItsCapacityOldestFirst() {
        let log = ForwardedTransactions(capacity: 100)
        for i in 0..<5_000 { log.add(id(i), nowMillis: 1_000, keepMillis: 60_000) }
        #expect(log.count == 100)
        #expect(log.contains(id(4_999), nowMillis: 1_000))
        #expect(!log.contains(id(4_899), nowMillis: 1_000))
        #expect(log.contains(id(4_900), nowMillis: 1_000))
        #expect(log.log.withLock { $0.storage } <= 2 * 1_024 + 100)
    }

    @Test func anIdForwardedAgainKeepsItsLaterTime() {
        let log = ForwardedTransactions(capacity: 10)
        log.add(id(1), nowMillis: 0, keepMillis: 100)
        log.add(id(1), nowMillis: 50, keepMillis: 100)
        log.add(id(2), nowMillis: 120, keepMillis: 100)
        #expect(log.contains(id(1), nowMillis: 120))
        #expect(!log.contains(id(1), nowMillis: 150))
        // Nothing kept, or nothing to keep, never traps.
        log.add(id(3), nowMillis: 500, keepMillis: 0)
        #expect(!log.contains(id(3), nowMillis: 500))
    }
}

/// The bounded record both the mempool's expired ids and an observer's forwarded ids live in.
@Suite struct RecentIDsTests {
    func id(_ i: Int) -> Hash256 { Hash256.sha256(Array("id \(i)".utf8)) }

    @Test func anIdInsertedAgainLeavesOnlyWithItsNewestInsertion() {
        var ids = RecentIDs(capacity: 3)
        ids.insert(id(1))
        ids.insert(id(2))
        ids.insert(id(1))
        // id(1)'s first insertion is pushed out; its second still holds it.
        ids.insert(id(3))
        #expect(ids.contains(id(1)) && ids.contains(id(3)))
        #expect(ids.contains(id(2)))
        ids.insert(id(4))
        #expect(!ids.contains(id(2)) && ids.contains(id(1)))
        ids.insert(id(5))
        ids.insert(id(6))
        #expect(!ids.contains(id(1)) && ids.count == 3)
    }

    @Test func noCapacityRemembersNothing() {
        var ids = RecentIDs(capacity: 0)
        ids.insert(id(1))
        #expect(!ids.contains(id(1)) && ids.count == 0)
        var negative = RecentIDs(capacity: -5)
        negative.insert(id(1))
        #expect(negative.count == 0)
    }
}
