import ChainCore
import NIOCore
import NIOPosix
import P2P
import Testing

@Suite(.serialized) struct ConnectionLifecycleTests {
    @Test func pingsKeepAnIdleConnectionOpen() async throws {
        let cluster = try TestCluster(size: 2)
        let nets = try cluster.nodeIds.map { nodeId in
            try cluster.network(nodeId) {
                // Wide margins: the suite runs beside CPU-heavy tests on two cores.
                $0.keepaliveInterval = .milliseconds(200)
                $0.idleTimeout = .milliseconds(2_000)
            }
        }
        try await withRunning(nets) {
            try await connectMesh(cluster, nets)
            let before = nets.map { $0.peerStatus.map(\.connectionId) }
            // Three idle timeouts pass with no messages: only pings keep the connection alive.
            try await Task.sleep(for: .milliseconds(6_000))
            #expect(nets.map { $0.peerStatus.map(\.connectionId) } == before)
            #expect(!cluster.recorder.contains("peer silent"))
        }
    }

    @Test func silentPeerIsDisconnectedAndRedialed() async throws {
        let cluster = try TestCluster(size: 2)
        // node0 expects to hear from its peer every second; node1 pings only every minute.
        let watcher = try cluster.network("node0") {
            $0.keepaliveInterval = .milliseconds(200)
            $0.idleTimeout = .milliseconds(1_000)
        }
        let quiet = try cluster.network("node1") {
            $0.keepaliveInterval = .seconds(60)
            $0.idleTimeout = .seconds(60)
        }
        try await withRunning([watcher, quiet]) {
            // Not a full-mesh wait: the watcher may already have dropped the silent peer by then.
            try await introduce(cluster, [watcher, quiet])
            try await eventually("first connection") { watcher.statistics.connectionsEstablished >= 1 }
            try await eventually("idle close") { cluster.recorder.contains("closing connection: peer silent", "node0") }
            try await eventually("redial") { watcher.statistics.connectionsEstablished >= 2 }
        }
    }

    @Test func validatorRemovedFromTheSetIsDisconnected() async throws {
        let cluster = try TestCluster(size: 3)
        let nets = try cluster.nodeIds.map { try cluster.network($0) }
        try await withRunning(nets) {
            try await connectMesh(cluster, nets)
            var ports: [String: Int] = [:]
            for n in nets { ports[n.configuration.nodeId] = n.listeningAddress!.port }
            let withoutNode2 = try cluster.validators(ports: ports).filter { $0.nodeId != "node2" }
            try nets[0].update(validators: withoutNode2)
            try nets[1].update(validators: withoutNode2)
            try await eventually("node2 dropped") {
                nets[0].connectedPeers == ["node1"] && nets[1].connectedPeers == ["node0"] && nets[2].connectedPeers.isEmpty
            }
            #expect(throws: ChainError.self) { try nets[0].send(to: "node2", [1]) }
            #expect(try nets[0].broadcast([5]) == ["node1": .queued])
            #expect(try await receive(1, on: nets[1]).first?.bytes == [5])
            // node2 has the highest id, so it never dials; putting it back makes node0 and node1 dial it again.
            let full = try cluster.validators(ports: ports)
            try nets[0].update(validators: full)
            try nets[1].update(validators: full)
            try await eventually("node2 back") { nets.allSatisfy { $0.connectedPeers.count == 2 } }
        }
    }

    @Test func garbageSilentAndPlaintextConnectionsAreClosed() async throws {
        let cluster = try TestCluster(size: 2)
        let node = try cluster.network("node1") { $0.handshakeTimeout = .milliseconds(300) }
        try await withRunning([node]) {
            try await eventually("listener") { node.listeningAddress != nil }
            let port = node.listeningAddress!.port
            var rng = SystemRandomNumberGenerator()
            let payloads: [[UInt8]] = [
                [],  // silent: only the handshake timeout ends it
                (0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) },  // random bytes
                WireBytes.helloFrame,  // a well-formed hello, but in plaintext instead of TLS
                [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 64),  // a TLS record header with a hostile length
            ]
            for payload in payloads {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connect(host: "127.0.0.1", port: port).get()
                if !payload.isEmpty { try await channel.writeAndFlush(ByteBuffer(bytes: payload)) }
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        try await channel.closeFuture.get()
                        return true
                    }
                    group.addTask {
                        try await Task.sleep(for: .seconds(5))
                        return false
                    }
                    let closedByNode = try await group.next() ?? false
                    group.cancelAll()
                    if !closedByNode { try? await channel.close() }
                    #expect(closedByNode, "the node kept a hostile connection open: \(payload.prefix(8))")
                }
            }
            // The client can see its connection closed a moment before the node has counted that
            // failed handshake (CI once read 3 of 4 here): wait for the count, then check it.
            try? await eventually("every refused handshake counted", timeout: .seconds(10)) {
                node.statistics.handshakesFailed >= payloads.count
            }
            #expect(node.statistics.handshakesFailed == payloads.count)
            #expect(node.connectedPeers.isEmpty)
            #expect(cluster.recorder.contains("refused inbound connection", "handshake_timeout"))
        }
    }
}

extension ConnectionLifecycleTests {
    /// An outsider without a certificate opens many connections and never handshakes: it gets a
    /// few slots per address, validators' addresses are not counted against the shared limit, so
    /// validators still connect at once; the refusals are logged a few times, not once each.
    @Test func connectionsHeldOpenByOutsidersDoNotLockValidatorsOut() async throws {
        let cluster = try TestCluster(size: 2)
        let victim = try cluster.network("node1") {
            $0.handshakeTimeout = .seconds(30)
            $0.maxPendingHandshakes = 8
            $0.maxPendingHandshakesPerAddress = 4
        }
        let other = try cluster.network("node0")
        try await withRunning([victim, other]) {
            try await eventually("listeners") { victim.listeningAddress != nil && other.listeningAddress != nil }
            let port = victim.listeningAddress!.port
            var held: [any Channel] = []
            for source in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
                for _ in 0..<20 {
                    if let c = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                        .bind(to: try SocketAddress(ipAddress: source, port: 0))
                        .connect(host: "127.0.0.1", port: port).get()
                    {
                        held.append(c)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            let open = held.filter { $0.isActive }.count
            #expect(open <= 8, "\(open) outsider connections still open; at most 8 may wait for their handshake")
            // The validators connect while the outsiders hold every slot they may have.
            try await introduce(cluster, [victim, other])
            try await eventually("validators connected", timeout: .seconds(10)) {
                victim.connectedPeers.count == 1 && other.connectedPeers.count == 1
            }
            #expect(victim.statistics.handshakesFailed >= 60 - 8)
            #expect(cluster.recorder.count("refusing connections") <= 2)
            for c in held { try? await c.close() }
        }
    }

    @Test func busyPortAndSecondRunAreReported() async throws {
        let cluster = try TestCluster(size: 2)
        let first = try cluster.network("node0")
        try await withRunning([first]) {
            try await eventually("listener") { first.listeningAddress != nil }
            let clash = try cluster.network("node1", port: first.listeningAddress!.port)
            await #expect(throws: ChainError.self) { try await clash.run() }
            await #expect(throws: ChainError.self) { try await first.run() }
        }
        // Once stopped, the network is inert: sends are dropped, the sequence is over.
        #expect(try first.send(to: "node1", [1]) == .notConnected)
        var messages = first.messages.makeAsyncIterator()
        #expect(await messages.next() == nil)
    }
}

/// A hello frame as it would appear on the wire (without TLS).
enum WireBytes {
    static let helloFrame: [UInt8] = Array(
        Hex.decode("0000001e015843484e00010000000a746573742d636861696e000000056e6f646530") ?? [])
}
