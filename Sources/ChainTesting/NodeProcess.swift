import ChainCore
import Dispatch
import Foundation
import Node

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `xiangchain` executable for process-level tests.
public enum XiangChainBinary {
    /// `$XIANGCHAIN_BIN`, or `.build/debug/xiangchain` under the package root.
    public static var url: URL {
        if let env = ProcessInfo.processInfo.environment["XIANGCHAIN_BIN"] { return URL(fileURLWithPath: env) }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root.appendingPathComponent(".build/debug/xiangchain")
    }

    /// Runs a command to completion on a dispatch thread (not blocking the cooperative pool);
    /// returns exit status and combined output.
    @discardableResult
    public static func run(_ args: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(args) })
            }
        }
    }

    static func runBlocking(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = url
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

/// A free TCP port on 127.0.0.1 (bound and released, so another process can take it).
public func freeLocalPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A `xiangchain node` process serving on a loopback port, with its log in the home directory.
public final class NodeProcess: @unchecked Sendable {
    let process = Process()
    /// The API base URL.
    public let baseURL: URL

    /// Starts `xiangchain node --home home --api-port port`.
    public init(home: URL, port: Int) throws {
        baseURL = URL(string: "http://127.0.0.1:\(port)")!
        process.executableURL = XiangChainBinary.url
        process.arguments = ["node", "--home", home.path, "--api-port", String(port)]
        let log = home.appendingPathComponent("node.log")
        logURL = log
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    /// Process id.
    public var pid: Int32 { process.processIdentifier }

    /// The node's log file.
    public let logURL: URL

    /// The last lines of the node's log.
    public func logTail(_ lines: Int = 20) -> String {
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Waits until `/v1/status` answers (up to `timeout`).
    public func waitUntilReady(timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if process.isRunning == false {
                throw ChainError(.nodeExited, "node exited with \(process.terminationStatus):\n\(logTail())")
            }
            if let (status, _) = try? await HTTP.get(baseURL.appendingPathComponent("v1/status")), status == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChainError(.nodeTimeout, "node did not become ready:\n\(logTail())")
    }

    /// Sends a signal (SIGKILL, SIGTERM, ...) and waits for the process to end.
    @discardableResult
    public func stop(signal: Int32) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Small HTTP helpers over URLSession for process tests.
public enum HTTP {
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.timeoutIntervalForRequest = 30
        c.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: c)
    }()

    /// GET; status and parsed JSON.
    public static func get(_ url: URL) async throws -> (Int, JSONValue) {
        let (data, response) = try await session.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try JSONParser().parse(Array(data)))
    }

    /// GET with extra headers; status and parsed JSON.
    public static func get(_ url: URL, headers: [String: String]) async throws -> (Int, JSONValue) {
        var req = URLRequest(url: url)
        for (k, v) in headers { req.setValue(v, forHTTPHeaderField: k) }
        let (data, response) = try await session.data(for: req)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try JSONParser().parse(Array(data)))
    }

    /// POST JSON bytes; status and parsed JSON.
    public static func post(_ url: URL, _ body: [UInt8]) async throws -> (Int, JSONValue) {
        var req = URLRequest(url: url)
        req.httpMethod = "POST"
        req.httpBody = Data(body)
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await session.data(for: req)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, try JSONParser().parse(Array(data)))
    }
}

/// A base port P such that P..P+count−1 and P+1000..P+1000+count−1 are free on 127.0.0.1 now
/// (the layout `init --base-port` uses for API and p2p ports).
public func freePortBlock(count: Int) -> Int { LocalPorts.freeBlock(count: count) }

/// Shortens the round timeout (1 s) and the empty-block pace (200 ms) of validators 0..<validators
/// in a consortium directory, so that tests that kill and restart nodes move on quickly.
public func quickenConsensus(_ dir: URL, validators: Int) throws {
    for k in 0..<validators {
        let url = dir.appendingPathComponent("nodes/\(k)/config.json")
        var config = try NodeConfig.load(from: url)
        config.consensusTimeoutMs = 1_000
        config.emptyBlockDelayMs = 200
        try config.write(to: url)
    }
}
