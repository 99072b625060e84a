import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Testing

@testable import Node

/// Gossip is best effort (a peer with a full mempool drops it), and a validator that leader
/// reputation does not elect proposes nothing: a transaction only its mempool held could wait
/// until it expired (a governance approval once did not commit within a minute in CI while the
/// chain went on). Waiting transactions signed over `regossipAfterMs` ago are gossiped again,
/// except those an uncommitted block holds.
@Suite struct RegossipTests {
    /// The transaction ids of the gossip messages in `stream`'s buffer, read until it has `count`.
    static func gossiped(_ stream: AsyncStream<(String, [UInt8])>, count: Int) async -> [Hash256] {
        var ids: [Hash256] = []
        for await (_, bytes) in stream {
            if bytes.first == 2,
                let txs = try? TransactionBatch.decode(Array(bytes.dropFirst()), maxCount: 10_000, hasher: .sha256)
            {
                ids += txs.map(\.id)
            }
            if ids.count >= count { break }
        }
        return ids
    }

    @Test func oldWaitingTransactionsAreGossipedAgainButNotRecentOnesOrThoseInABlock() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            // The inboxes exist before anything is sent: delivery is a synchronous buffer append,
            // so nothing here depends on a listener task being scheduled in time.
            let inboxes = (1..<4).map { cluster.hub.listen("node\($0)") }
            let farm = try cluster.consortium.identity(.farm, org: "org1")
            let now = ChainNode.nowMillis()
            func tx(signedAgo ms: Int64) throws -> SignedTransaction {
                try farm.transaction(
                    chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(), timestamp: now - ms)
            }
            let old = try tx(signedAgo: 20_000)
            let inBlock = try tx(signedAgo: 20_000)
            let recent = try tx(signedAgo: 1_000)
            // The services do not run: admission gossips nothing here, only the re-gossip sends.
            for t in [old, inBlock, recent] { try cluster.nodes[0].submit(t) }
            let service = cluster.services[0]
            service.pending.record(
                ConsensusBlock.root(epoch: 0, blockID: Hash256.sha256(Array("b".utf8)), height: 1), txids: [inBlock.id],
                verified: nil)
            // Nothing old enough yet: nothing sent.
            #expect(service.regossipWaiting(nowMillis: now - 15_000) == 0)
            #expect(service.regossipWaiting(nowMillis: now) == 1)
            for inbox in inboxes {
                #expect(await Self.gossiped(inbox, count: 1) == [old.id])
            }
        }
    }
}
