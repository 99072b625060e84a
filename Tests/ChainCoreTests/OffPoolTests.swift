import ChainCore
import Dispatch
import Foundation
import Synchronization
import Testing

/// Blocking work waits off the cooperative pool (`OffPool`).
struct OffPoolTests {
    @Test func givesTheWorksResultAndItsErrorWithItsType() async throws {
        let value = await OffPool.run { 6 * 7 }  // cannot throw: no `try`
        #expect(value == 42)
        let queue = DispatchQueue(label: "xiangchain.test.offpool")
        let onQueue = await OffPool.run(on: queue) { () -> Bool in
            dispatchPrecondition(condition: .onQueue(queue))
            return true
        }
        #expect(onQueue)
        var code: ErrorCode?
        do throws(ChainError) {
            _ = try await OffPool.run { () throws(ChainError) -> Int in throw ChainError(.badConfig, "no") }
        } catch {
            code = error.code  // typed: a ChainError, no cast
        }
        #expect(code == .badConfig)
    }

    /// More blocking calls than the pool has threads, each waiting up to 1.5 s for a task on the
    /// pool to let it go. Run on `DispatchQueue.global()` (which on Linux is the pool's own
    /// threads) that task could not run until libdispatch added threads, about one a second: with
    /// 6 calls on 2 cores it let them go after ~3 s, and they gave up. Off the pool it runs at once.
    @Test func blockingWorkLeavesThePoolFree() async throws {
        let count = ProcessInfo.processInfo.activeProcessorCount + 4
        let release = DispatchSemaphore(value: 0)
        async let released: [Bool] = withTaskGroup(of: Bool.self) { group in
            for _ in 0..<count {
                group.addTask { await OffPool.run { release.wait(timeout: .now() + 1.5) == .success } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        try await Task.sleep(for: .milliseconds(50))  // on the pool, while they block
        for _ in 0..<count { release.signal() }
        let all = await released
        #expect(all.count == count && all.allSatisfy { $0 }, "\(all)")
    }
}
