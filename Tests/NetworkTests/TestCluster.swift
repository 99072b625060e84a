import ChainCore
import ChainTesting
import Foundation
import Identity
import Logging
import P2P
import Synchronization
import Testing

/// Log lines kept by tests that assert why a connection was refused.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])
    private let echo = ProcessInfo.processInfo.environment["XC_NET_LOG"] != nil

    func record(_ entry: Entry) {
        if echo { print("\(ContinuousClock.now) [\(entry.level)] \(entry.message) \(entry.metadata)") }
        entries.withLock { $0.append(entry) }
    }

    /// True when some entry's message and metadata mention every fragment.
    func contains(_ fragments: String...) -> Bool {
        entries.withLock { list in
            list.contains { e in
                let text =
                    e.message + " " + e.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                return fragments.allSatisfy { text.contains($0) }
            }
        }
    }

    /// Entries whose message contains `fragment`.
    func count(_ fragment: String) -> Int {
        entries.withLock { list in list.filter { $0.message.contains(fragment) }.count }
    }

    func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(recorder: self) }
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged: [String: String] = [:]
        for (k, v) in metadata { merged[k] = "\(v)" }
        for (k, v) in event.metadata ?? [:] { merged[k] = "\(v)" }
        recorder.record(.init(level: event.level, message: "\(event.message)", metadata: merged))
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Validators `node0`…`node{n-1}`, one per org, with certificates from `TestConsortium`'s CAs.
struct TestCluster: Sendable {
    static let chainId = "test-chain"
    let consortium: TestConsortium
    let identities: [String: SigningIdentity]
    let nodeIds: [String]
    let recorder = LogRecorder()

    init(size: Int, suite: CryptoSuite = .ed25519) throws {
        consortium = try TestConsortium(orgs: (0..<size).map { "org\($0)" }, suite: suite, chainId: Self.chainId)
        nodeIds = (0..<size).map { "node\($0)" }
        var ids: [String: SigningIdentity] = [:]
        for (i, nodeId) in nodeIds.enumerated() {
            ids[nodeId] = try consortium.identity(.node, org: "org\(i)", name: nodeId)
        }
        identities = ids
    }

    var caPEMs: [String] { consortium.cas.keys.sorted().compactMap { try? consortium.cas[$0]?.certificatePEM } }

    /// The validator set, with the given listening ports (a node without a port is not dialed).
    func validators(ports: [String: Int] = [:]) throws -> [ValidatorPeer] {
        try nodeIds.map { nodeId in
            try ValidatorPeer(
                nodeId: nodeId, certificateDER: identities[nodeId]!.certificateDER,
                address: try ports[nodeId].map { try PeerAddress(host: "127.0.0.1", port: $0) })
        }
    }

    /// Settings that keep tests fast: short backoff and keepalive.
    static func fastConfiguration(nodeId: String, port: Int = 0) throws -> PeerNetworkConfiguration {
        var c = PeerNetworkConfiguration(
            chainId: chainId, nodeId: nodeId, listenAddress: try PeerAddress(host: "127.0.0.1", port: port))
        c.reconnectBackoff = ReconnectBackoff(initial: .milliseconds(20), maximum: .milliseconds(300))
        c.keepaliveInterval = .seconds(1)
        c.idleTimeout = .seconds(5)
        c.handshakeTimeout = .seconds(3)
        return c
    }

    func network(
        _ nodeId: String, port: Int = 0, identity: SigningIdentity? = nil, validators: [ValidatorPeer]? = nil,
        caPEMs: [String]? = nil, configure: (inout PeerNetworkConfiguration) -> Void = { _ in }
    ) throws -> PeerNetwork {
        var config = try Self.fastConfiguration(nodeId: nodeId, port: port)
        configure(&config)
        return try PeerNetwork(
            configuration: config, identity: identity ?? identities[nodeId]!, caCertificatesPEM: caPEMs ?? self.caPEMs,
            validators: validators ?? self.validators(), logger: recorder.logger(nodeId))
    }
}

/// Runs the networks while `body` runs, then cancels them and waits for them to stop.
func withRunning<T: Sendable>(_ networks: [PeerNetwork], _ body: () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for n in networks { group.addTask { try await n.run() } }
        do {
            let result = try await body()
            group.cancelAll()
            try await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Polls `condition` until it holds; fails the test after `timeout`.
/// Waits are generous: on a loaded 2-core machine (CI, parallel builds) binding four TLS listeners
/// took more than 10 s; a wait only costs time when something is slow.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestTimeout(what: what)
}

/// Waits until every network is listening, then gives each the full set with everyone's address.
func connectMesh(_ cluster: TestCluster, _ networks: [PeerNetwork]) async throws {
    try await introduce(cluster, networks)
    try await eventually("full mesh") {
        networks.allSatisfy { $0.connectedPeers.count == networks.count - 1 }
    }
}

/// Tells each network the others' listening ports, so that they start dialing.
func introduce(_ cluster: TestCluster, _ networks: [PeerNetwork]) async throws {
    try await eventually("listeners") { networks.allSatisfy { $0.listeningAddress != nil } }
    var ports: [String: Int] = [:]
    for n in networks { ports[n.configuration.nodeId] = n.listeningAddress?.port }
    let set = try cluster.validators(ports: ports)
    for n in networks { try n.update(validators: set) }
}

/// The next `count` messages `network` receives; fails after `timeout`.
func receive(_ count: Int, on network: PeerNetwork, timeout: Duration = .seconds(10)) async throws -> [InboundMessage] {
    try await withThrowingTaskGroup(of: [InboundMessage]?.self) { group in
        group.addTask {
            var got: [InboundMessage] = []
            for await m in network.messages {
                got.append(m)
                if got.count == count { break }
            }
            return got
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first, first.count == count else {
            throw TestTimeout(what: "\(count) messages on \(network.configuration.nodeId)")
        }
        return first
    }
}
