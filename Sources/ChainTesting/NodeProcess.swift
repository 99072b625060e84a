import AsyncHTTPClient
import ChainClient
import ChainCore
import Dispatch
import Foundation
import Launcher
import Node

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `xiangchain` executable for process-level tests.
public enum XiangChainBinary {
    /// `$XIANGCHAIN_BIN`, or `.build/debug/xiangchain` under the package root.
    public static var url: URL {
        if let env = ProcessInfo.processInfo.environment["XIANGCHAIN_BIN"] { return URL(fileURLWithPath: env) }
        return packageRoot.appendingPathComponent(".build/debug/xiangchain")
    }

    /// The package's root directory (scripts, deploy files, console sources live under it).
    public static var packageRoot: URL {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root
    }

    /// Runs a command to completion off the cooperative pool; returns exit status and combined output.
    @discardableResult
    public static func run(_ args: [String]) async throws -> (status: Int32, output: String) {
        try await CommandRunner.run(url, args)
    }
}

/// A free TCP port on 127.0.0.1 now.
public func freeLocalPort() -> Int { LocalPorts.freeBlock(count: 1) }

/// A `xiangchain node` process serving on a loopback port, with its log in the home directory.
public final class NodeProcess: Sendable {
    let node: LaunchedNode
    /// The API base URL.
    public let baseURL: URL
    /// A client of its API.
    public let client: ChainClient

    /// Starts `xiangchain node --home home --api-port port`; `scheme` and `http` say how its API
    /// is reached (https with a client trusting the node's CA when the config names a certificate).
    public init(home: URL, port: Int, scheme: String = "http", host: String = "127.0.0.1", http: HTTPClient = .chainDefault)
        throws
    {
        baseURL = URL(string: "\(scheme)://\(host):\(port)")!
        client = try ChainClient(baseURL, http: http)
        node = try LaunchedNode(executable: XiangChainBinary.url, home: home, arguments: ["--api-port", String(port)])
    }

    /// Starts `ip netns exec NAMESPACE xiangchain node --home home` (the addresses and ports
    /// from its config), reached at `apiURL`, each request bounded by `timeout`.
    public init(home: URL, namespace: String, apiURL: URL, timeout: Duration = .seconds(5)) throws {
        baseURL = apiURL
        client = try ChainClient(apiURL, timeout: timeout)
        let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let ip else { throw ChainError(.badConfig, "iproute2's ip is not installed") }
        node = try LaunchedNode(
            executable: URL(fileURLWithPath: ip), prefix: ["netns", "exec", namespace, XiangChainBinary.url.path], home: home)
    }

    /// Process id.
    public var pid: Int32 { node.pid }

    /// The node's log file.
    public var logURL: URL { node.logURL }

    /// The last lines of the node's log.
    public func logTail(_ lines: Int = 20) -> String { node.logTail(lines) }

    /// Waits until `/v1/status` answers (up to `timeout`).
    public func waitUntilReady(timeout: Duration = .seconds(90)) async throws {
        try await node.waitUntilReady(client, timeout: timeout)
    }

    /// Sends a signal (SIGKILL, SIGTERM, ...) and waits for the process to end.
    @discardableResult
    public func stop(signal: Int32) -> Int32 { node.stop(signal: signal) }
}

/// Small HTTP helpers for process tests, over the project's one API client.
public enum HTTP {
    static func client(_ url: URL) throws -> (ChainClient, String) {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else {
            throw ChainError(.badConfig, "bad URL \(url)")
        }
        let target = parts.percentEncodedPath + (parts.percentEncodedQuery.map { "?" + $0 } ?? "")
        parts.path = ""
        parts.query = nil
        guard let base = parts.url else { throw ChainError(.badConfig, "bad URL \(url)") }
        return (try ChainClient(base), target)
    }

    /// GET; status and parsed JSON.
    public static func get(_ url: URL) async throws -> (Int, JSONValue) {
        try await get(url, headers: [:])
    }

    /// GET with extra headers; status and parsed JSON.
    public static func get(_ url: URL, headers: [String: String]) async throws -> (Int, JSONValue) {
        let (client, target) = try client(url)
        let reply = try await client.fetch(target, headers: headers.map { ($0.key, $0.value) })
        return (reply.status, try JSONParser().parse(reply.body))
    }

    /// POST JSON bytes; status and parsed JSON.
    public static func post(_ url: URL, _ body: [UInt8]) async throws -> (Int, JSONValue) {
        let (client, target) = try client(url)
        let reply = try await client.post(target, body: body)
        return (reply.status, try JSONParser().parse(reply.body))
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

/// Runs `program` (an absolute path, or looked up on PATH) to completion off the cooperative pool; nil when it is not
/// installed.
public func runTool(_ program: String, _ args: [String]) async throws -> (status: Int32, output: String)? {
    if program.hasPrefix("/") {
        guard FileManager.default.isExecutableFile(atPath: program) else { return nil }
        return try await CommandRunner.run(URL(fileURLWithPath: program), args)
    }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        .map { URL(fileURLWithPath: String($0)).appendingPathComponent(program) }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    guard let path else { return nil }
    return try await CommandRunner.run(path, args)
}
