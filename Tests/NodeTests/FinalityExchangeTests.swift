import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Storage
import Synchronization
import Testing

@testable import Node

/// A validator whose committed blocks lack a quorum of finality signatures asks its peers for
/// theirs (channel 4); a peer answers with its own signatures of those heights (channel 1), at
/// most once every 2 s per asker, so a peer cannot make it read blocks without bound.
@Suite struct FinalityExchangeTests {
    /// node0 commits `count` blocks on its own: each carries only its own finality signature.
    static func blocksSignedByNode0Alone(_ cluster: Cluster, count: Int) throws {
        let farm = try cluster.consortium.identity(.farm, org: "org1")
        for _ in 0..<count {
            try cluster.nodes[0].submit(
                try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
            #expect(try cluster.nodes[0].produceBlock() != nil)
        }
    }

    /// The next message in `inbox`.
    static func next(_ inbox: AsyncStream<(String, [UInt8])>) async -> (String, [UInt8])? {
        var it = inbox.makeAsyncIterator()
        return await it.next()
    }

    @Test func aBlockShortOfAQuorumIsAskedForFromItsHeight() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            let inbox = cluster.hub.listen("node1")
            try Self.blocksSignedByNode0Alone(cluster, count: 3)
            // Blocks 1 and 2 (below the tip) have one signature of the three a quorum needs.
            cluster.services[0].requestMissingFinality()
            let (from, bytes) = try #require(await Self.next(inbox))
            #expect(from == "node0")
            var r = BinaryReader(Array(bytes.dropFirst()))
            #expect(bytes.first == 4)
            #expect(try r.u64() == 1)
            #expect(try r.u32() == 2)
        }
    }

    @Test func aPeerAnswersWithItsOwnSignaturesOnceEveryTwoSeconds() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            let inbox = cluster.hub.listen("node1")
            try Self.blocksSignedByNode0Alone(cluster, count: 3)
            let key = try #require(try cluster.consortium.genesis.validatorKeys()["node0"])
            let service = cluster.services[0]
            service.serveFinality(to: "node1", from: 1, count: 100)
            // Asked again at once: nothing (then a marker, so the test reads what came before it).
            service.serveFinality(to: "node1", from: 1, count: 100)
            cluster.hub.transport("node0").send(to: "node1", [9, 9])
            var heights: [UInt64] = []
            for await (from, bytes) in inbox {
                if bytes == [9, 9] { break }
                guard
                    case .finality(let signer, let height, let hash, let signature)? = ConsensusService<InMemoryTransport>
                        .parse(from: from, bytes, hasher: .sha256)
                else {
                    Issue.record("not a finality message: \(bytes.prefix(8))")
                    break
                }
                let header = try #require(try cluster.nodes[0].store.header(at: height))
                #expect(signer == "node0" && hash == header.hash)
                #expect(CryptoSuite.ed25519.verify(signature: signature, message: header.signingMessage, publicKey: key))
                heights.append(height)
            }
            #expect(heights == [1, 2, 3])
        }
    }

    /// The signatures of block `height` of node0's chain by the validators `by`.
    static func othersSign(_ cluster: Cluster, height: UInt64, by: [Int]) throws -> [(String, BlockHeader, [UInt8])] {
        let header = try #require(try cluster.nodes[0].store.header(at: height))
        return try by.map { k in ("node\(k)", header, try cluster.nodes[k].sign(header).signature) }
    }

    static func signers(_ cluster: Cluster, at height: UInt64) throws -> [String] {
        try cluster.nodes[0].store.block(at: height)?.signatures.map(\.validator) ?? []
    }

    /// A checked finality signature is not written on its own (a SQLite transaction and an
    /// `fsync` each, three a block on four validators): it waits in the queue and goes into the
    /// transaction of the next commit, of a chain block or of an empty consensus block.
    @Test func finalitySignaturesAreWrittenWithTheNextCommit() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            try Self.blocksSignedByNode0Alone(cluster, count: 1)
            let node = cluster.nodes[0]
            let service = cluster.services[0]
            for (from, header, signature) in try Self.othersSign(cluster, height: 1, by: [1, 2]) {
                try service.addFinality(from: from, height: 1, headerHash: header.hash, signature: signature)
            }
            #expect(try Self.signers(cluster, at: 1) == ["node0"])
            #expect(service.finalityWrites.withLock { $0.entries.count } == 2)

            // The next committed consensus block, with one transaction: block 2 and the two signatures.
            let farm = try cluster.consortium.identity(.farm, org: "org1")
            let tx = try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            let crypto = SuiteCrypto(
                selfID: "node0", key: cluster.consortium.nodeKeys[0],
                validators: try ValidatorSet(
                    ids: cluster.consortium.genesis.validators.map(\.nodeId),
                    keys: cluster.consortium.genesis.validatorKeys()))
            let parent = QuorumCertificate.genesis(node.genesisHash)
            let b1 = ConsensusBlock(
                round: 1, parent: parent, payload: TransactionBatch.encode([tx]), timestamp: ChainNode.nowMillis(),
                crypto: crypto)
            #expect(try service.commit(b1)?.header.height == 2)
            #expect(try Self.signers(cluster, at: 1) == ["node0", "node1", "node2"])
            #expect(service.finalityWrites.withLock { $0.isEmpty })

            // An empty consensus block makes no chain block; its commit record carries them.
            for (from, header, signature) in try Self.othersSign(cluster, height: 2, by: [3]) {
                try service.addFinality(from: from, height: 2, headerHash: header.hash, signature: signature)
            }
            let b2 = ConsensusBlock(
                round: 2, parent: parent, payload: TransactionBatch.encode([]), timestamp: ChainNode.nowMillis(),
                crypto: crypto)
            #expect(try service.commit(b2) == nil)
            #expect(try Self.signers(cluster, at: 2) == ["node0", "node3"])
            #expect(service.finalityWrites.withLock { $0.isEmpty })
        }
    }

    /// When no commit comes (the others are not running, so nothing is certified), the loop
    /// writes a queued signature itself, shortly after it came.
    @Test func theLoopWritesQueuedSignaturesWhenNoCommitComes() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            try Self.blocksSignedByNode0Alone(cluster, count: 1)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await cluster.services[0].run() }
                let messages = try Self.othersSign(cluster, height: 1, by: [1, 2]).map { from, header, signature in
                    var w = BinaryWriter()
                    w.u64(1)
                    w.hash(header.hash)
                    w.lengthPrefixed(signature)
                    return (from, [UInt8(1)] + w.bytes)
                }
                // Sent again until they are written: a message to a node not yet receiving is lost
                // (under the parallel suite the loop may take a long while to start), and a
                // signature already queued or written is taken once.
                #expect(
                    try await waitUntil(.seconds(300)) {
                        for (from, bytes) in messages { cluster.hub.transport(from).send(to: "node0", bytes) }
                        return try Self.signers(cluster, at: 1) == ["node0", "node1", "node2"]
                    })
                // (A copy sent again after the write is queued once more and written by the timer.)
                #expect(try await waitUntil(.seconds(300)) { cluster.services[0].finalityWrites.withLock { $0.isEmpty } })
                group.cancelAll()
            }
        }
    }
}
