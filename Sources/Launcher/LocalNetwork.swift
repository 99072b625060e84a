import ChainClient
import ChainCore
import Foundation
import Identity
import Node

#if canImport(Glibc)
    import Glibc
#endif

/// The nodes of a network directory (`init`, `devnet`) running as processes of this machine:
/// one `xiangchain node` per validator (and observer), each logging to its home's `node.log`.
/// Used by `devnet`, `bench` and the process tests.
public final class LocalNetwork: Sendable {
    /// The network directory.
    public let layout: NetworkLayout
    /// The running nodes, by node id, validators first.
    public let nodes: [(nodeId: String, node: LaunchedNode, client: ChainClient)]

    private init(layout: NetworkLayout, nodes: [(nodeId: String, node: LaunchedNode, client: ChainClient)]) {
        self.layout = layout
        self.nodes = nodes
    }

    /// The API base URLs, in node order.
    public var urls: [URL] { nodes.map(\.client.baseURL) }

    /// Starts every validator of `layout` (and its observers when `observers` is set).
    public static func start(
        _ layout: NetworkLayout, executable: URL = LaunchedNode.currentExecutable, observers: Bool = false
    ) throws -> LocalNetwork {
        let genesis = try Genesis.load(from: layout.genesisURL)
        let homes = genesis.validators.indices.map { layout.nodeHome($0) } + (observers ? layout.observerHomes : [])
        var nodes: [(nodeId: String, node: LaunchedNode, client: ChainClient)] = []
        for home in homes {
            let config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
            let node = try LaunchedNode(executable: executable, home: home)
            nodes.append((config.nodeId, node, try ChainClient(config.apiURL)))
        }
        return LocalNetwork(layout: layout, nodes: nodes)
    }

    /// Waits until every node answers and, with `meshed`, every validator sees all its peers.
    public func waitUntilReady(meshed: Bool, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        let validators = try Genesis.load(from: layout.genesisURL).validators.count
        for entry in nodes {
            var seen = "no answer to GET /v1/status"
            while true {
                guard entry.node.isRunning else {
                    throw ChainError(.nodeExited, "\(entry.nodeId) exited:\n\(entry.node.logTail())")
                }
                if let s = try? await entry.client.status() {
                    let peers = s["consensus"]?["peersConnected"]?.arrayValue?.count ?? 0
                    if !meshed || validators == 1 || s["mode"]?.stringValue == "observer" || peers == validators - 1 { break }
                    seen = "connected to \(peers) of \(validators - 1) peers"
                }
                guard ContinuousClock.now < deadline else {
                    throw ChainError(
                        .nodeTimeout,
                        "\(entry.nodeId) is not ready (\(seen)); logs in \(layout.root.path)/nodes/*/node.log; its last lines:\n"
                            + entry.node.logTail())
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// CPU seconds (user + system) used so far by each node process, by node id.
    public func cpuSeconds() -> [String: Double] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var out: [String: Double] = [:]
        for (id, node, _) in nodes {
            guard let stat = try? String(contentsOfFile: "/proc/\(node.pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state is field 3 overall, utime 14 and stime 15 → offsets 11 and 12 here.
            guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { continue }
            out[id] = (u + s) / ticks
        }
        return out
    }

    /// Peak resident set size of each node process, MiB (VmHWM), by node id.
    public func peakRSS() -> [String: Double] {
        var out: [String: Double] = [:]
        for (id, node, _) in nodes {
            guard let status = try? String(contentsOfFile: "/proc/\(node.pid)/status", encoding: .utf8),
                let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
            else { continue }
            out[id] = kb / 1024
        }
        return out
    }

    /// Sends `signal` to every node and waits for all to exit; returns the exit statuses by node id.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) async -> [(String, Int32)] {
        for (_, node, _) in nodes { node.signal(signal) }
        var out: [(String, Int32)] = []
        for (id, node, _) in nodes { out.append((id, await node.stopped(signal: signal))) }
        return out
    }
}

/// Prints a line and flushes, so progress shows at once also when the output is piped.
public func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
