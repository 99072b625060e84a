import ChainCore
import ChainTesting
import Identity
import Logging
import P2P
import ServiceLifecycle
import Testing

@Suite(.serialized) struct PeerNetworkTests {
    @Test(arguments: [CryptoSuite.ed25519, .p256, .sm2])
    func fourValidatorsFormAFullMeshAndExchangeMessages(suite: CryptoSuite) async throws {
        let cluster = try TestCluster(size: 4, suite: suite)
        let nets = try cluster.nodeIds.map { try cluster.network($0) }
        try await withRunning(nets) {
            try await connectMesh(cluster, nets)
            for n in nets {
                #expect(n.connectedPeers == cluster.nodeIds.filter { $0 != n.configuration.nodeId })
            }
            // Every node sends one message to every other node, then one broadcast.
            for n in nets {
                for peer in n.connectedPeers {
                    #expect(try n.send(to: peer, Array("\(n.configuration.nodeId)->\(peer)".utf8)) == .queued)
                }
                let results = try n.broadcast(Array("all from \(n.configuration.nodeId)".utf8))
                #expect(results.count == 3 && results.values.allSatisfy { $0 == .queued })
            }
            for n in nets {
                let me = n.configuration.nodeId
                let got = try await receive(6, on: n)
                let texts = Set(got.map { "\($0.from): \(String(decoding: $0.bytes, as: UTF8.self))" })
                var expected: Set<String> = []
                for other in cluster.nodeIds where other != me {
                    expected.insert("\(other): \(other)->\(me)")
                    expected.insert("\(other): all from \(other)")
                }
                #expect(texts == expected)
            }
            // The lower id dialed: node0's connections are all outbound, node3's all inbound.
            #expect(nets[0].peerStatus.allSatisfy { $0.direction == .outbound })
            #expect(nets[3].peerStatus.allSatisfy { $0.direction == .inbound })
        }
    }

    @Test func messagesKeepTheirOrderAndLargeOnesArriveIntact() async throws {
        let cluster = try TestCluster(size: 2)
        let nets = try cluster.nodeIds.map { try cluster.network($0) }
        try await withRunning(nets) {
            try await connectMesh(cluster, nets)
            let big = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            for i in 0..<100 { #expect(try nets[1].send(to: "node0", [UInt8(i)]) == .queued) }
            #expect(try nets[1].send(to: "node0", big) == .queued)
            #expect(try nets[1].send(to: "node0", []) == .queued)
            let got = try await receive(102, on: nets[0])
            #expect(got.prefix(100).map { $0.bytes } == (0..<100).map { [UInt8($0)] })
            #expect(got[100].bytes == big)
            #expect(got[101].bytes.isEmpty)
        }
    }

    @Test func networkBuiltFromAKeyAndCertificatePEMJoinsTheMesh() async throws {
        let cluster = try TestCluster(size: 2, suite: .p256)
        let id1 = cluster.identities["node1"]!
        let fromPEM = try PeerNetwork(
            configuration: try TestCluster.fastConfiguration(nodeId: "node1"), nodeKey: id1.key,
            certificatePEM: id1.certificatePEM, caCertificatesPEM: cluster.caPEMs, validators: try cluster.validators(),
            logger: cluster.recorder.logger("node1"))
        let nets = [try cluster.network("node0"), fromPEM]
        try await withRunning(nets) {
            try await connectMesh(cluster, nets)
            #expect(try fromPEM.send(to: "node0", [7]) == .queued)
            #expect(try await receive(1, on: nets[0]).first == InboundMessage(from: "node1", bytes: [7]))
        }
    }

    @Test func onAnSM2ChainAPeerWhoseTransportKeyIsNotCertifiedByTheValidatorsSM2KeyIsRefused() async throws {
        let cluster = try TestCluster(size: 2, suite: .sm2)
        let honest = try cluster.network("node1")
        // Another consortium's SM2 node key, claiming node0: its binding does not verify under
        // node0's SM2 key in the validator set.
        let stranger = try TestConsortium(orgs: ["org0"], suite: .sm2, chainId: TestCluster.chainId)
        let forged = try stranger.identity(.node, org: "org0", name: "node0")
        try await withRunning([honest]) {
            try await eventually("listener") { honest.listeningAddress != nil }
            let target = try cluster.validators(ports: ["node1": honest.listeningAddress!.port])
            let rogueSelf = try ValidatorPeer(nodeId: "node0", certificateDER: forged.certificateDER, address: nil)
            let rogue = try cluster.network("node0", identity: forged, validators: [rogueSelf, target[1]])
            try await withRunning([rogue]) {
                try await eventually("two refused handshakes") { honest.statistics.handshakesFailed >= 2 }
                #expect(honest.connectedPeers.isEmpty)
                // The rogue's own side may count the link for the moment between its handshake
                // and the honest node's close (seen once in CI): it must not stay.
                try await eventually("the rogue holds no link") { rogue.connectedPeers.isEmpty }
                #expect(honest.connectedPeers.isEmpty)
            }
            #expect(cluster.recorder.contains("certificate_mismatch"))
        }
    }

    @Test func sendRefusesMisuse() async throws {
        let cluster = try TestCluster(size: 2)
        let net = try cluster.network("node0") { $0.maxFrameSize = 2048 }
        #expect(throws: ChainError.self) { try net.send(to: "node9", [1]) }
        #expect(throws: ChainError.self) { try net.send(to: "node0", [1]) }
        #expect(throws: ChainError.self) { try net.send(to: "node1", [UInt8](repeating: 0, count: 2048)) }
        #expect(try net.send(to: "node1", [UInt8](repeating: 0, count: 2047)) == .notConnected)
        #expect(try net.broadcast([1]) == ["node1": .notConnected])
        #expect(net.statistics.messagesDropped == 2)
    }

    @Test func peerWithACertificateFromAnUnknownCAIsRefused() async throws {
        let cluster = try TestCluster(size: 2)
        let honest = try cluster.network("node1")
        let stranger = try TestConsortium(orgs: ["org0"], chainId: TestCluster.chainId)  // same org name, other CA
        let forged = try stranger.identity(.node, org: "org0", name: "node0")
        try await withRunning([honest]) {
            try await eventually("listener") { honest.listeningAddress != nil }
            let target = try cluster.validators(ports: ["node1": honest.listeningAddress!.port])
            let rogueSelf = try ValidatorPeer(nodeId: "node0", certificateDER: forged.certificateDER, address: nil)
            let rogue = try cluster.network(
                "node0", identity: forged, validators: [rogueSelf, target[1]],
                caPEMs: cluster.caPEMs + [try stranger.cas["org0"]!.certificatePEM])
            try await withRunning([rogue]) {
                try await eventually("two refused handshakes") { honest.statistics.handshakesFailed >= 2 }
                #expect(honest.connectedPeers.isEmpty)
                #expect(rogue.connectedPeers.isEmpty)
            }
            #expect(cluster.recorder.contains("refused inbound connection"))
        }
    }

    @Test func orgCertificateThatIsNotAValidatorCertificateIsRefused() async throws {
        let cluster = try TestCluster(size: 2)
        let honest = try cluster.network("node1")
        // Issued by org0's genuine CA, with the node role and the name node0, but not node0's certificate.
        let lookalike = try cluster.consortium.identity(.node, org: "org0", name: "node0")
        try await withRunning([honest]) {
            try await eventually("listener") { honest.listeningAddress != nil }
            let target = try cluster.validators(ports: ["node1": honest.listeningAddress!.port])
            let rogueSelf = try ValidatorPeer(nodeId: "node0", certificateDER: lookalike.certificateDER, address: nil)
            let rogue = try cluster.network("node0", identity: lookalike, validators: [rogueSelf, target[1]])
            try await withRunning([rogue]) {
                try await eventually("refusal") { cluster.recorder.contains("refused inbound connection", "not_a_validator") }
                #expect(honest.connectedPeers.isEmpty)
            }
        }
    }

    @Test func dialedServerThatIsNotTheExpectedValidatorIsRefused() async throws {
        let cluster = try TestCluster(size: 2)
        // An impostor listens where node0 expects node1, with a genuine org1 node certificate that is not node1's.
        let impostorIdentity = try cluster.consortium.identity(.node, org: "org1", name: "node1")
        let impostorSelf = try ValidatorPeer(nodeId: "node1", certificateDER: impostorIdentity.certificateDER, address: nil)
        let realNode0 = try cluster.validators()[0]
        let impostor = try cluster.network("node1", identity: impostorIdentity, validators: [realNode0, impostorSelf])
        try await withRunning([impostor]) {
            try await eventually("listener") { impostor.listeningAddress != nil }
            let honest = try cluster.network(
                "node0", validators: try cluster.validators(ports: ["node1": impostor.listeningAddress!.port]))
            try await withRunning([honest]) {
                try await eventually("refusal") { cluster.recorder.contains("dial failed", "not_a_validator") }
                #expect(honest.connectedPeers.isEmpty)
            }
        }
    }

    @Test func validatorClaimingAnotherNodesIdIsRefused() async throws {
        let cluster = try TestCluster(size: 3)
        let honest = try cluster.network("node1")
        try await withRunning([honest]) {
            try await eventually("listener") { honest.listeningAddress != nil }
            let target = try cluster.validators(ports: ["node1": honest.listeningAddress!.port])[1]
            // node2's genuine identity, claiming to be node0 in its hello.
            let liar = try cluster.network("node0", identity: cluster.identities["node2"]!, validators: [target])
            try await withRunning([liar]) {
                try await eventually("refusal") { cluster.recorder.contains("refused inbound connection", "node_id_mismatch") }
                #expect(honest.connectedPeers.isEmpty)
            }
        }
    }

    @Test func peerOnAnotherChainIsRefused() async throws {
        let cluster = try TestCluster(size: 2)
        let honest = try cluster.network("node1")
        try await withRunning([honest]) {
            try await eventually("listener") { honest.listeningAddress != nil }
            let set = try cluster.validators(ports: ["node1": honest.listeningAddress!.port])
            let other = try cluster.network("node0", validators: set) { $0.chainId = "other-chain" }
            try await withRunning([other]) {
                try await eventually("refusal") { cluster.recorder.contains("refused inbound connection", "wrong_chain") }
                #expect(honest.connectedPeers.isEmpty)
            }
        }
    }

    @Test func oversizedFrameClosesOnlyThatConnection() async throws {
        let cluster = try TestCluster(size: 3)
        let nets = try cluster.nodeIds.map { nodeId in
            try cluster.network(nodeId) { $0.maxFrameSize = nodeId == "node1" ? 64 * 1024 : 1 << 20 }
        }
        try await withRunning(nets) {
            try await connectMesh(cluster, nets)
            let before = nets[1].peerStatus
            let toNode0 = before.first { $0.nodeId == "node0" }!.connectionId
            let toNode2 = before.first { $0.nodeId == "node2" }!.connectionId
            // node0 may send 1 MiB frames, node1 accepts at most 64 KiB.
            #expect(try nets[0].send(to: "node1", [UInt8](repeating: 7, count: 200 * 1024)) == .queued)
            try await eventually("node1 closes the offending connection") {
                cluster.recorder.contains("peer disconnected", "frame_too_large")
            }
            // node0 redials; the node1–node2 connection was never touched.
            try await eventually("node0 reconnected") {
                nets[1].peerStatus.contains { $0.nodeId == "node0" && $0.connectionId > toNode0 }
                    && nets[0].connectedPeers.contains("node1")
            }
            #expect(nets[1].peerStatus.first { $0.nodeId == "node2" }?.connectionId == toNode2)
            #expect(try nets[2].send(to: "node1", [42]) == .queued)
            #expect(try nets[0].send(to: "node1", [43]) == .queued)
            let got = try await receive(2, on: nets[1])
            #expect(Set(got.map { "\($0.from):\($0.bytes)" }) == ["node2:[42]", "node0:[43]"])
        }
    }

    @Test func restartedNodeIsReconnectedAndMessagesFlowAgain() async throws {
        let cluster = try TestCluster(size: 4)
        let logger = cluster.recorder.logger("group")
        let first = try cluster.network("node1")
        let others = try ["node0", "node2", "node3"].map { try cluster.network($0) }
        try await withRunning(others) {
            let group = ServiceGroup(services: [first], logger: logger)
            let port = try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await connectMesh(cluster, [others[0], first, others[1], others[2]])
                #expect(try others[0].send(to: "node1", [1]) == .queued)
                #expect(try await receive(1, on: first).first?.from == "node0")
                let port = first.listeningAddress!.port
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return port
            }
            try await eventually("peers notice node1 is gone") {
                others.allSatisfy { !$0.connectedPeers.contains("node1") }
            }
            #expect(try others[0].send(to: "node1", [2]) == .notConnected)

            // node1 comes back on the same port; node0 redials it, it redials node2 and node3.
            var ports: [String: Int] = ["node1": port]
            for n in others { ports[n.configuration.nodeId] = n.listeningAddress!.port }
            let second = try cluster.network("node1", port: port, validators: try cluster.validators(ports: ports))
            try await withRunning([second]) {
                try await eventually("mesh restored") {
                    second.connectedPeers == ["node0", "node2", "node3"]
                        && others.allSatisfy { $0.connectedPeers.contains("node1") }
                }
                for n in others { #expect(try n.send(to: "node1", Array(n.configuration.nodeId.utf8)) == .queued) }
                let got = try await receive(3, on: second)
                #expect(Set(got.map(\.from)) == ["node0", "node2", "node3"])
                #expect(try second.broadcast([9]).values.allSatisfy { $0 == .queued })
                for n in others { #expect(try await receive(1, on: n).first?.bytes == [9]) }
            }
        }
    }

    @Test func peerThatNeverReadsMakesSendReportBackPressureWithBoundedQueue() async throws {
        let cluster = try TestCluster(size: 2)
        let sender = try cluster.network("node0") {
            $0.outboundQueueMessages = 16
            $0.outboundQueueBytes = 1 << 20
        }
        // node1's application never consumes `messages`.
        let sink = try cluster.network("node1") {
            $0.inboundBufferMessages = 4
            $0.inboundBufferBytes = 256 * 1024
        }
        try await withRunning([sender, sink]) {
            try await connectMesh(cluster, [sender, sink])
            let chunk = [UInt8](repeating: 0xAB, count: 64 * 1024)
            var queued = 0
            var consecutiveFull = 0
            // Keep offering; stop once the queue has stayed full for 40 attempts 10 ms apart.
            while consecutiveFull < 40 {
                switch try sender.send(to: "node1", chunk) {
                case .queued:
                    queued += 1
                    consecutiveFull = 0
                case .queueFull:
                    consecutiveFull += 1
                    try await Task.sleep(for: .milliseconds(10))
                case .notConnected:
                    Issue.record("connection dropped under back-pressure")
                    return
                }
                // Bounded: kernel buffers plus the queue absorb a few tens of MiB at most, never all of it.
                try #require(queued < 4096, "sender kept queueing: no back-pressure")
            }
            let status = try #require(sender.peerStatus.first)
            #expect(status.queuedMessages <= 16 && status.queuedBytes <= 1 << 20)
            #expect(sender.statistics.messagesDropped >= 40)
            #expect(sink.statistics.messagesReceived <= 4)
            #expect(sink.connectedPeers == ["node0"])

            // Once the application reads again, everything queued arrives and the queue drains.
            let got = try await receive(queued, on: sink, timeout: .seconds(20))
            #expect(got.allSatisfy { $0.bytes == chunk })
            #expect(sender.peerStatus.first?.queuedMessages == 0)
            #expect(try sender.send(to: "node1", [1]) == .queued)
        }
    }
}
