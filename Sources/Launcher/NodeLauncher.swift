import CSpawn
import ChainClient
import ChainCore
import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A `xiangchain node` process started by this one (devnet, bench, the tests), its output
/// appended to `HOME/node.log`. The one way XiangChain launches node processes.
///
/// Started with `posix_spawn` and reaped by this object alone (`waitpid` on its own pid), not
/// through Foundation's `Process`: until it is reaped here, its pid cannot be reused, so a
/// signal sent while `isRunning` reaches this process and no other. Seen with `Process` in the
/// parallel test suite on a loaded machine: `isRunning` false 300 ms after the launch of a
/// process that went on running, and a live process taken for ended; with a pid check beside
/// it, a pid reused by another child of the test process could be taken for this one (pids
/// wrap at 32,768 here).
public final class LaunchedNode: @unchecked Sendable {
    /// The node's home directory.
    public let home: URL
    /// Its log file.
    public let logURL: URL
    /// Process id.
    public let pid: Int32
    /// The exit status once reaped: the exit code, or the number of the signal that ended it.
    private let ended = Mutex<Int32?>(nil)

    /// Starts `EXECUTABLE PREFIX… node --home HOME ARGS…` (a prefix runs the node through a
    /// wrapper: `ip` with `netns exec NS xiangchain` runs it in a network namespace).
    public init(
        executable: URL = LaunchedNode.currentExecutable, prefix: [String] = [], home: URL, arguments: [String] = []
    ) throws {
        self.home = home
        logURL = home.appendingPathComponent("node.log")
        let log = open(logURL.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard log >= 0 else {
            throw ChainError(.nodeExited, "cannot open \(logURL.path): \(String(cString: strerror(errno)))")
        }
        defer { close(log) }
        let argv = [executable.path] + prefix + ["node", "--home", home.path] + arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var child: pid_t = 0
        let rc = xc_spawn(executable.path, &cArgs, log, &child)
        guard rc == 0 else {
            throw ChainError(.nodeExited, "cannot start \(executable.path): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    /// The executable this process runs (`/proc/self/exe`).
    public static var currentExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// True until the process has ended (and is then reaped).
    public var isRunning: Bool { exitStatus == nil }

    /// The exit status once the process has ended (the exit code, or the number of the signal
    /// that ended it); nil while it runs.
    public var exitStatus: Int32? {
        ended.withLock { ended in
            if let ended { return ended }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &status, WNOHANG) } while result == -1 && errno == EINTR
            if result == 0 { return nil }
            // -1 (ECHILD) only if someone else reaped it: ended, status unknown.
            let code: Int32 = result == pid ? Self.decode(status) : -1
            ended = code
            return code
        }
    }

    private static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : signal
    }

    /// Sends `signal` if the process has not ended; returns whether it was sent. Holding the
    /// reaping lock while signalling, so the pid cannot be reaped (and reused) in between.
    @discardableResult
    public func signal(_ signal: Int32) -> Bool {
        guard isRunning else { return false }
        return ended.withLock { ended in ended == nil && kill(pid, signal) == 0 }
    }

    /// The last lines of the node's log.
    public func logTail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Waits until the node's API answers `/v1/status`; fails at once if the process exits.
    public func waitUntilReady(_ client: ChainClient, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus {
                throw ChainError(.nodeExited, "node exited with \(status):\n\(logTail())")
            }
            if await client.answers() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChainError(.nodeTimeout, "node did not become ready:\n\(logTail())")
    }

    /// Sends `signal` (when still running) and waits for the process to end; returns its status.
    /// A process still running `grace` after the signal is killed (`SIGKILL`, as systemd does
    /// after `TimeoutStopSec`): a node that hangs while stopping must not hang the bench, the
    /// devnet or a test with it (its status then says it was killed). Blocks the calling thread:
    /// from async code use `stopped(signal:)`.
    @discardableResult
    public func stop(signal: Int32, grace: Duration = .seconds(30)) -> Int32 {
        self.signal(signal)
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        self.signal(SIGKILL)
        while true {
            if let status = exitStatus { return status }
            usleep(5_000)
        }
    }

    /// `stop(signal:)` off the cooperative thread pool.
    @discardableResult
    public func stopped(signal: Int32, grace: Duration = .seconds(30)) async -> Int32 {
        await OffPool.run { self.stop(signal: signal, grace: grace) }
    }

    deinit {
        if signal(SIGKILL) {
            while exitStatus == nil { usleep(5_000) }
        }
    }
}

/// Runs a command to completion.
public enum CommandRunner {
    /// Runs `executable args…` on a dispatch thread (not blocking the cooperative pool); returns
    /// its exit status and its combined output.
    public static func run(_ executable: URL, _ args: [String]) async throws -> (status: Int32, output: String) {
        try await OffPool.run {
            let (status, output) = try ChildProcess.run(executable, args)
            return (status, String(decoding: output, as: UTF8.self))
        }
    }
}
