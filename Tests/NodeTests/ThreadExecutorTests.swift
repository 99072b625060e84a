import Foundation
import Synchronization
import Testing

@testable import Node

#if canImport(Glibc)
    import Glibc
#endif

/// The consensus loop's thread (`ThreadExecutor`) runs at the nice value the node asks for, and
/// only that thread does.
@Suite struct ThreadExecutorTests {
    @Test func theThreadRunsAtTheNiceValueAskedForAndOnlyIt() async {
        let before = ThreadExecutor.niceValue()
        // Raising a nice value needs no privilege (lowering it does: `consensusThreadNice`).
        let executor = ThreadExecutor(name: "nice-test", nice: before + 5)
        defer { executor.shutdown() }
        let onThread = await withTaskExecutorPreference(executor) { ThreadExecutor.niceValue() }
        #expect(onThread == before + 5)
        // Named as `top -H` and `ps -L` show it.
        let name = await withTaskExecutorPreference(executor) { ThreadExecutor.kernelName() }
        #expect(name == "nice-test")
        let plain = ThreadExecutor(name: "plain-test")
        defer { plain.shutdown() }
        #expect(await withTaskExecutorPreference(plain) { ThreadExecutor.niceValue() } == before)
        #expect(ThreadExecutor.niceValue() == before)
    }

    /// A job enqueued after `shutdown()` let the thread end still runs. Seen: a validator
    /// stopping under load never logged "consensus stopped" and never exited (the bench waited
    /// for it for ten minutes): the loop's executor was shut down inside its task group, and a
    /// round timer (a child task preferring that executor), woken by the group's cancellation,
    /// was enqueued after the thread had ended, so the group waited for it for ever.
    @Test func aJobEnqueuedAfterTheThreadEndedStillRuns() async throws {
        let executor = ThreadExecutor(name: "late-test")
        executor.shutdown()
        // Nothing was queued: the thread ends at once.
        try await Task.sleep(for: .milliseconds(100))
        final class Flag: Sendable { let ran = Atomic<Bool>(false) }
        let flag = Flag()
        let done = Task(executorPreference: executor) { flag.ran.store(true, ordering: .sequentiallyConsistent) }
        // Not `await done.value`: without the fix that would hang the suite.
        let deadline = ContinuousClock.now + .seconds(30)
        while !flag.ran.load(ordering: .sequentiallyConsistent), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let ran = flag.ran.load(ordering: .sequentiallyConsistent)
        #expect(ran)
        if ran { await done.value }
    }

    @Test func aLowerNiceValueIsSetWhenPermittedAndOtherwiseLeftAsItWas() async {
        let before = ThreadExecutor.niceValue()
        let executor = ThreadExecutor(name: "lowered-test", nice: before - 5)
        defer { executor.shutdown() }
        let nice = await withTaskExecutorPreference(executor) { ThreadExecutor.niceValue() }
        // Root (CAP_SYS_NICE) may lower it; any other process keeps its value, and the thread runs.
        #expect(nice == (geteuid() == 0 ? before - 5 : before))
    }
}

/// `consensusThreadNice` in a node's config.json: the default, a value in range, and values a node
/// refuses at start with the key named (a hand-edited file is input from outside the process).
@Suite struct ConsensusThreadNiceConfigTests {
    func decode(_ json: String) throws -> NodeConfig {
        try JSONDecoder().decode(NodeConfig.self, from: Data(json.utf8))
    }

    @Test func theDefaultIsMinusTenAndAValueInRangeIsKept() throws {
        #expect(try decode(#"{"nodeId":"n"}"#).consensusThreadNice == -10)
        #expect(try decode(#"{"nodeId":"n","consensusThreadNice":0}"#).consensusThreadNice == 0)
        #expect(try decode(#"{"nodeId":"n","consensusThreadNice":19}"#).consensusThreadNice == 19)
        #expect(try decode(#"{"nodeId":"n","consensusThreadNice":-20}"#).consensusThreadNice == -20)
    }

    @Test(arguments: [#"99"#, #"-21"#, #""fast""#, #"1.5"#, #"[]"#])
    func aValueOutOfRangeOrOfTheWrongTypeIsRefused(_ value: String) {
        #expect(throws: DecodingError.self) {
            try decode(#"{"nodeId":"n","consensusThreadNice":"# + value + "}")
        }
    }
}
