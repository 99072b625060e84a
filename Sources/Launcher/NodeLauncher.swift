import ChainClient
import ChainCore
import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A `xiangchain node` process started by this one (devnet, bench, the tests), its output
/// appended to `HOME/node.log`. The one way XiangChain launches node processes.
public final class LaunchedNode: @unchecked Sendable {
    let process = Process()
    /// The node's home directory.
    public let home: URL
    /// Its log file.
    public let logURL: URL

    /// Starts `EXECUTABLE PREFIX… node --home HOME ARGS…` (a prefix runs the node through a
    /// wrapper: `ip` with `netns exec NS xiangchain` runs it in a network namespace).
    public init(
        executable: URL = LaunchedNode.currentExecutable, prefix: [String] = [], home: URL, arguments: [String] = []
    ) throws {
        self.home = home
        logURL = home.appendingPathComponent("node.log")
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        process.executableURL = executable
        process.arguments = prefix + ["node", "--home", home.path] + arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// The executable this process runs (`/proc/self/exe`).
    public static var currentExecutable: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath() }

    /// Process id.
    public var pid: Int32 { process.processIdentifier }

    /// True while the process runs: Foundation says so, or the process is still a live child of
    /// this one (`/proc/<pid>/stat`: not a zombie, its parent this process, so a pid reused by
    /// an unrelated process after Foundation reaped ours is not taken for it). Seen once in the
    /// parallel test suite on a loaded machine: `Process.isRunning` was false 300 ms after the
    /// launch of a process that went on running for two minutes, so a stop neither signalled nor
    /// killed it and waited for it to end by itself.
    public var isRunning: Bool {
        process.isRunning || Self.isLiveChild(process.processIdentifier)
    }

    /// Whether `pid` is a child of this process that has not ended.
    static func isLiveChild(_ pid: Int32) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        // "pid (comm) state ppid …": the name may hold spaces and parentheses, so read after the last ")".
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 2, let ppid = Int32(fields[1]) else { return false }
        return fields[0] != "Z" && fields[0] != "X" && ppid == getpid()
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
            guard isRunning else {
                throw ChainError(.nodeExited, "node exited with \(process.terminationStatus):\n\(logTail())")
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
        if isRunning { kill(process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + grace
        while isRunning, ContinuousClock.now < deadline { usleep(20_000) }
        if isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// `stop(signal:)` off the cooperative thread pool.
    @discardableResult
    public func stopped(signal: Int32, grace: Duration = .seconds(30)) async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.stop(signal: signal, grace: grace)) }
        }
    }

    deinit {
        if isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Runs a command to completion.
public enum CommandRunner {
    /// Runs `executable args…` on a dispatch thread (not blocking the cooperative pool); returns
    /// its exit status and its combined output.
    public static func run(_ executable: URL, _ args: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let p = Process()
                        p.executableURL = executable
                        p.arguments = args
                        let pipe = Pipe()
                        p.standardOutput = pipe
                        p.standardError = pipe
                        try p.run()
                        let data = pipe.fileHandleForReading.readDataToEndOfFile()
                        p.waitUntilExit()
                        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
                    })
            }
        }
    }
}
