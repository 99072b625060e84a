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
        #expect(log.log.withLock { $0.order.count } <= 2 * 1_024 + 100)
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
