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
            // Stands in for a node that does not stop: ignores the signal (kept across exec), and
            // says so in a file ($3 is the home after "node --home"). It sleeps for an hour, not
            // for two minutes: in CI's parallel phase this test's task was once not scheduled for
            // longer than that, and the "stuck" process ended by itself (status 0).
            let stuck = try LaunchedNode(
                executable: URL(fileURLWithPath: "/bin/sh"),
                prefix: ["-c", "trap '' USR1; : > \"$3/trapped\"; exec sleep 3600", "sh"], home: dir)
            let trapped = dir.appendingPathComponent("trapped").path
            let waitedFrom = ContinuousClock.now
            while !FileManager.default.fileExists(atPath: trapped), ContinuousClock.now - waitedFrom < .seconds(60) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(stuck.isRunning, "ended with \(String(describing: stuck.exitStatus)): \(stuck.logTail())")
            let started = ContinuousClock.now
            let status = await stuck.stopped(signal: SIGUSR1, grace: .seconds(1))
            #expect(!stuck.isRunning)
            #expect(status == SIGKILL)
            // Killed, not waited for: the stand-in sleeps for an hour, so a stop that waited for it
            // to end would take that long. The bound is far from both the grace period and the
            // hour: the parallel suite once kept this task from running for two minutes after the
            // stop had returned (118 tests of a 585-test run finished at the same moment), so a
            // wall-clock bound near the grace period measured the scheduler, not the stop.
            #expect(ContinuousClock.now - started < .seconds(600))
        }
    }

    @Test func aProcessThatEndsWithinTheGracePeriodIsNotKilled() async throws {
        try await withTemporaryDirectory { dir in
            // Ends by the signal, or by itself a second after it should the signal be ignored (an
            // ignored signal stays ignored across exec): stopping waits for it either way.
            let node = try LaunchedNode(
                executable: URL(fileURLWithPath: "/bin/sh"), prefix: ["-c", "sleep 1.3", "sh"], home: dir)
            try await Task.sleep(for: .milliseconds(300))
            let status = await node.stopped(signal: SIGUSR1, grace: .seconds(30))
            #expect(status == 0 || status == SIGUSR1)
            #expect(status != SIGKILL)
        }
    }

    @Test func anEndedProcessIsReapedOnceAndNeverSignalled() async throws {
        try await withTemporaryDirectory { dir in
            let node = try LaunchedNode(executable: URL(fileURLWithPath: "/bin/sh"), prefix: ["-c", "exit 3", "sh"], home: dir)
            let waitedFrom = ContinuousClock.now
            while node.isRunning, ContinuousClock.now - waitedFrom < .seconds(60) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(node.exitStatus == 3)
            // Reaped: its pid may belong to another process by now, so nothing is sent to it.
            #expect(!node.signal(SIGKILL))
            #expect(await node.stopped(signal: SIGTERM) == 3)
        }
    }

    @Test func theChildInheritsOnlyItsStandardDescriptorsAndNoBlockedSignal() async throws {
        try await withTemporaryDirectory { dir in
            // A descriptor this process holds without close-on-exec, and a signal the launching
            // thread blocks (as a test runner or a dispatch thread may): neither reaches the node.
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            defer { for fd in fds { close(fd) } }
            var usr2 = sigset_t()
            var saved = sigset_t()
            sigemptyset(&usr2)
            sigaddset(&usr2, SIGUSR2)
            pthread_sigmask(SIG_BLOCK, &usr2, &saved)
            // An hour, so that it is still running however late this task is scheduled again (a
            // minute was once not enough in CI's parallel phase: it had ended, holding nothing).
            let node = try LaunchedNode(
                executable: URL(fileURLWithPath: "/bin/sh"), prefix: ["-c", "exec sleep 3600", "sh"], home: dir)
            pthread_sigmask(SIG_SETMASK, &saved, nil)
            // Read from outside once the shell has become `sleep`, which opens nothing itself.
            let waitedFrom = ContinuousClock.now
            var command = ""
            while !command.hasPrefix("sleep"), ContinuousClock.now - waitedFrom < .seconds(60) {
                try await Task.sleep(for: .milliseconds(20))
                command = (try? String(contentsOfFile: "/proc/\(node.pid)/comm", encoding: .utf8)) ?? ""
            }
            let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(node.pid)/fd").sorted()
            let status = try String(contentsOfFile: "/proc/\(node.pid)/status", encoding: .utf8)
            let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") } ?? ""
            #expect(await node.stopped(signal: SIGKILL) == SIGKILL)
            #expect(open == ["0", "1", "2"], "open in the child: \(open)")
            #expect(blocked.hasSuffix("0000000000000000"), "\(blocked)")
        }
    }
}
