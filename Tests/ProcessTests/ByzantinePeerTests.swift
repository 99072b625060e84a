import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Logging
import Node
import P2P
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A Byzantine validator over real sockets: three `xiangchain node` processes of a 4-validator
/// chain, and the fourth validator's identity (its node key and certificate) in the hands of the
/// test, which completes the real mutual-TLS handshake and hello with it and then sends
/// malformed, oversized, far-future and flooding messages on every channel. The three keep
/// committing transactions, and their memory stays bounded (resident set size measured).
@Suite(.serialized) struct ByzantinePeerTests {
    /// The Byzantine peer: node3's real network, whose received messages are drained.
    struct Attacker {
        let network: PeerNetwork
        let crypto: SuiteCrypto
        let victims: [String]
        let genesisID: Hash256
        let maxMessageSize: Int
        var sent = 0
        var dropped = 0

        /// Sends `bytes` to every victim, waiting while a victim's queue is full (at most ~2 s each).
        mutating func send(_ bytes: [UInt8]) async {
            for victim in victims {
                var tries = 0
                while true {
                    guard let result = try? network.send(to: victim, bytes) else {
                        dropped += 1
                        break
                    }
                    if result == .queued {
                        sent += 1
                        break
                    }
                    tries += 1
                    if tries > 400 {
                        dropped += 1
                        break
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }

        /// A timeout of `round` signed with node3's key, its highest QC the genesis QC.
        func timeout(round: UInt64) -> [UInt8] {
            let signature = crypto.sign(TimeoutMessage.signingBytes(round: round, highQCRound: 0))
            let t = TimeoutMessage(round: round, highQC: .genesis(genesisID), signer: crypto.selfID, signature: signature)
            return [0] + ConsensusMessage.timeout(t, tc: nil).encoded
        }
    }

    /// `n` random bytes (eight at a time: the oversized frames are 16 MiB).
    static func noise(_ n: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        var out = [UInt8](repeating: 0, count: n)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            while i + 8 <= n {
                raw.storeBytes(of: rng.next() as UInt64, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < n {
                raw[i] = UInt8.random(in: 0...255, using: &rng)
                i += 1
            }
        }
        return out
    }

    static func residentMiB(_ pid: Int32) -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }

    func submit(_ signer: SigningIdentity, to base: URL) async throws -> JSONValue {
        let tx = try signer.transaction(chain: "byz-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
        let url = URL(string: "\(base.absoluteString)/v1/txs?wait=commit&timeout=30000")!
        return try await HTTP.post(url, Array(try JSONEncoder().encode(TransactionSubmission(tx)))).1
    }

    @Test func aValidatorKeyInHostileHandsNeitherStopsNorBloatsTheOthers() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "byz-test", "--base-port", String(base),
            ])
            try #require(made.status == 0, "\(made.output)")
            try quickenConsensus(dir, validators: 4)
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org1-admin"))
            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            let victims = try (0..<3).map { try NodeProcess(home: homes[$0], port: base + $0) }
            for v in victims { try await v.waitUntilReady() }

            // node3's identity, as its operator (or a thief of its key) holds it.
            let genesis = try Genesis.load(from: dir.appendingPathComponent("genesis.json"))
            let chain = genesis.initialConfig
            let genesisID = try genesis.hash
            let home = homes[3]
            let key = try KeyPEM.decode(String(contentsOf: home.appendingPathComponent("node.key.pem"), encoding: .utf8))
            let nodeConfig = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
            let network = try PeerNetwork(
                configuration: PeerNetworkConfiguration(
                    chainId: genesis.chainId, nodeId: nodeConfig.nodeId,
                    listenAddress: try PeerAddress(host: "127.0.0.1", port: nodeConfig.p2pPort)),
                nodeKey: key,
                certificatePEM: String(contentsOf: home.appendingPathComponent("node.cert.pem"), encoding: .utf8),
                caCertificatesPEM: chain.orgs.flatMap(\.roots),
                validators: try chain.validators.map {
                    try ValidatorPeer(nodeId: $0.nodeId, certificatePEM: $0.certificate, address: $0.p2pAddress)
                },
                logger: Logger(label: "byzantine"))
            let keys = try Dictionary(
                uniqueKeysWithValues: chain.validators.map {
                    ($0.nodeId, try KeyPEM.publicKey(certificatePEM: $0.certificate, suite: genesis.suite))
                })
            let set = try ValidatorSet(ids: chain.validators.map(\.nodeId), keys: keys)
            let victimIds = chain.validators.map(\.nodeId).filter { $0 != nodeConfig.nodeId }
            var attacker = Attacker(
                network: network, crypto: SuiteCrypto(selfID: nodeConfig.nodeId, key: key, validators: set), victims: victimIds,
                genesisID: genesisID, maxMessageSize: network.configuration.maxMessageSize)

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await network.run() }
                group.addTask { for await _ in network.messages {} }
                defer { group.cancelAll() }

                // The handshake is the real one: the victims accept node3.
                let deadline = ContinuousClock.now + .seconds(60)
                while Set(network.connectedPeers) != Set(victimIds), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                try #require(Set(network.connectedPeers) == Set(victimIds), "connected to \(network.connectedPeers)")
                #expect(try await submit(signer, to: victims[0].baseURL)["status"]?.stringValue == "committed")
                let baseline = victims.map { Self.residentMiB($0.pid) }

                let noise = Self.noise

                // Malformed: random bodies on every channel (and unknown ones), truncations and
                // bit flips of a valid signed timeout.
                for channel: UInt8 in [0, 1, 2, 3, 4, 5, 9, 255] {
                    for _ in 0..<60 { await attacker.send([channel] + noise(Int.random(in: 0...2048))) }
                }
                let valid = attacker.timeout(round: 5)
                for n in 1..<valid.count { await attacker.send(Array(valid.prefix(n))) }
                for i in stride(from: 1, to: valid.count, by: 3) {
                    var flipped = valid
                    flipped[i] ^= 0x41
                    await attacker.send(flipped)
                }
                var claims = BinaryWriter()
                claims.u8(1)
                claims.u32(UInt32.max)
                await attacker.send([2] + claims.bytes)
                #expect(try await submit(signer, to: victims[1].baseURL)["status"]?.stringValue == "committed", "after malformed")

                // Oversized: frames of the largest size a peer may send, of garbage and of a
                // transaction batch whose one body fills it.
                for channel: UInt8 in [0, 2, 7] { await attacker.send([channel] + noise(attacker.maxMessageSize - 1)) }
                var huge = BinaryWriter()
                huge.u8(1)
                huge.u32(1)
                huge.lengthPrefixed(noise(attacker.maxMessageSize - 64))
                await attacker.send([2] + huge.bytes)
                #expect(try await submit(signer, to: victims[2].baseURL)["status"]?.stringValue == "committed", "after oversized")

                // Far future: validly signed timeouts, a proposal and votes for rounds far ahead,
                // finality signatures for impossible heights, an epoch-change signature of a far
                // epoch, finality, block and proof requests for absurd ranges.
                let far: UInt64 = 1 << 40
                for r in 0..<UInt64(200) { await attacker.send(attacker.timeout(round: far + r)) }
                for r: UInt64 in [UInt64(Int64.max), UInt64.max - 1] { await attacker.send(attacker.timeout(round: r)) }
                let block = ConsensusBlock(
                    round: far, parent: .genesis(genesisID), payload: TransactionBatch.encode([]),
                    timestamp: Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000 * 365, crypto: attacker.crypto)
                await attacker.send([0] + ConsensusMessage.proposal(block, tc: nil).encoded)
                for r in 0..<UInt64(200) {
                    let data = VoteData(
                        blockID: Hash256.sha256(noise(8)), round: far + r, height: far + r, parentID: genesisID, parentRound: 0)
                    let vote = Vote(data: data, signer: nodeConfig.nodeId, signature: attacker.crypto.sign(data.signingBytes))
                    await attacker.send([0] + ConsensusMessage.vote(vote).encoded)
                }
                for height: UInt64 in [1 << 20, 1 << 40, 1 << 63, UInt64.max] {
                    await attacker.send(
                        PeerChannelMessage.finality(
                            height: height, headerHash: Hash256.sha256(noise(8)), signature: attacker.crypto.sign(noise(32))
                        ).encoded)
                }
                var epoch = BinaryWriter()
                epoch.u64(1 << 62)
                epoch.lengthPrefixed(noise(64))
                await attacker.send([3] + epoch.bytes)
                for from: UInt64 in [1, 1 << 63, UInt64.max] {
                    var w = BinaryWriter()
                    w.u64(from)
                    w.u32(UInt32.max)
                    await attacker.send([4] + w.bytes)
                }
                await attacker.send([0] + ConsensusMessage.blockRequest(id: Hash256.sha256(noise(8)), count: UInt32.max).encoded)
                await attacker.send([0] + ConsensusMessage.proofRequest(epoch: UInt64.max).encoded)
                #expect(
                    try await submit(signer, to: victims[0].baseURL)["status"]?.stringValue == "committed", "after far-future")

                // Flooding: signed timeouts of distinct future rounds as fast as the victims take
                // them, and gossip of transactions that fail verification.
                let flood = 30_000
                for r in 0..<UInt64(flood) { await attacker.send(attacker.timeout(round: 1_000 + r)) }
                let forged = try signer.transaction(
                    chain: "byz-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                for i in 0..<300 {
                    let bogus = (0..<50).map { k in
                        SignedTransaction(
                            body: forged.body + Array(" \(i)-\(k)".utf8), signature: forged.signature,
                            signerCertificate: forged.signerCertificate, hasher: .sha256)
                    }
                    await attacker.send([2] + TransactionBatch.encode(bogus))
                }
                for (k, v) in victims.enumerated() {
                    #expect(
                        try await submit(signer, to: v.baseURL)["status"]?.stringValue == "committed", "after flood, node\(k)")
                }
                let after = victims.map { Self.residentMiB($0.pid) }
                let growth = zip(after, baseline).map { $0 - $1 }
                print(
                    "byzantine peer: \(attacker.sent) messages sent, \(attacker.dropped) dropped by back-pressure; victims' RSS MiB",
                    "before \(baseline.map { Int($0) }), after \(after.map { Int($0) })")
                for (k, g) in growth.enumerated() {
                    #expect(g < 256, "node\(k) grew by \(Int(g)) MiB under the attack")
                }
                for v in victims { #expect(kill(v.pid, 0) == 0, "a victim exited:\n\(v.logTail())") }
            }
        }
    }
}
