import ChainTesting
import Foundation
import Launcher
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Stopping a launched node never waits for ever. Seen: a validator that hung while stopping
/// (its consensus service never ended) kept `xiangchain bench` waiting for it for ten minutes,
/// at 96 % of a core, until killed by hand.
@Suite struct LaunchedNodeStopTests {
    @Test func aProcessThatIgnoresTheSignalIsKilledAfterTheGracePeriod() async throws {
        try await withTemporaryDirectory { dir in
            // Stands in for a node that does not stop: ignores the signal (kept across exec).
            let stuck = try LaunchedNode(
                executable: URL(fileURLWithPath: "/bin/sh"), prefix: ["-c", "trap '' USR1; exec sleep 120", "sh"], home: dir)
            try await Task.sleep(for: .milliseconds(300))
            #expect(stuck.isRunning)
            let started = ContinuousClock.now
            let status = await stuck.stopped(signal: SIGUSR1, grace: .seconds(1))
            #expect(!stuck.isRunning)
            #expect(status == SIGKILL)
            // The deadline is only a guard: it returns soon after the grace period.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test func aProcessThatEndsWithinTheGracePeriodIsNotKilled() async throws {
        try await withTemporaryDirectory { dir in
            // Ends by itself a second after the signal, whether or not the signal reaches it (the
            // test runner may hand its children signals blocked): stopping waits for it.
            let node = try LaunchedNode(
                executable: URL(fileURLWithPath: "/bin/sh"), prefix: ["-c", "sleep 1.3", "sh"], home: dir)
            try await Task.sleep(for: .milliseconds(300))
            let status = await node.stopped(signal: SIGUSR1, grace: .seconds(30))
            #expect(status == 0 || status == SIGUSR1)
            #expect(status != SIGKILL)
        }
    }
}
