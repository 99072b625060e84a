import ChainCore
import Consensus
import Testing

@testable import Node

/// The queue between the consensus loop and the executor: blocks come out in order, a waiter
/// returns once few enough are left, the executor's failure reaches every waiter, and neither
/// side hangs when its task is cancelled.
@Suite struct CommitQueueTests {
    func blocks(_ n: Int, from: Int = 0) -> [ConsensusBlock] {
        (from..<from + n).map { ConsensusBlock.root(epoch: 0, blockID: Hash256.sha256(Array("b\($0)".utf8)), height: UInt64($0)) }
    }

    @Test func blocksComeOutInOrderAndWaitersReturnAsTheyAreDone() async throws {
        let queue = CommitQueue()
        queue.add(blocks(3))
        queue.add(blocks(2, from: 3))
        #expect(queue.unfinished == 5)
        let taken = await queue.next()
        #expect(taken?.map(\.height) == [0, 1, 2, 3, 4])
        async let waited: Void = queue.wait(atMost: 2)
        queue.done(1)
        queue.done(1)
        #expect(queue.unfinished == 3)
        queue.done(1)
        try await waited
        try await queue.wait(atMost: 2)
        queue.done(2)
        try await queue.wait(atMost: 0)
        // Closed and empty: the executor's next is nil.
        queue.close()
        #expect(await queue.next() == nil)
    }

    @Test func anExecutorWaitingGetsBlocksAddedLater() async throws {
        let queue = CommitQueue()
        async let taken = queue.next()
        try await Task.sleep(for: .milliseconds(20))
        queue.add(blocks(2))
        #expect(await taken?.count == 2)
    }

    @Test func theExecutorsFailureReachesWaitersNowAndLater() async throws {
        struct Broken: Error {}
        let queue = CommitQueue()
        queue.add(blocks(2))
        let waited = Task { try await queue.wait(atMost: 0) }
        try await Task.sleep(for: .milliseconds(20))
        queue.fail(Broken())
        await #expect(throws: Broken.self) { try await waited.value }
        await #expect(throws: Broken.self) { try await queue.wait(atMost: 0) }
        #expect(await queue.next() == nil)
    }

    @Test func cancelledWaitersAndExecutorsStopWaiting() async throws {
        let queue = CommitQueue()
        queue.add(blocks(1))
        _ = await queue.next()
        let waiter = Task { try await queue.wait(atMost: 0) }
        let executor = Task { await queue.next() }
        try await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        executor.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(await executor.value == nil)
    }
}
