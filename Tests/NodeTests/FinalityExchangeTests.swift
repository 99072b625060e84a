import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Storage
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
}
