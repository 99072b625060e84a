import ChainCore
import ChainTesting
import Consensus
import Foundation
import Identity
import Synchronization
import Testing

@testable import Node

/// Gossip is best effort (a peer with a full mempool drops it), and a validator that leader
/// reputation does not elect proposes nothing: a transaction only its mempool held could wait
/// until it expired (a governance approval once did not commit within a minute in CI while the
/// chain went on). Waiting transactions signed over `regossipAfterMs` ago are gossiped again,
/// except those an uncommitted block holds.
@Suite struct RegossipTests {
    @Test func oldWaitingTransactionsAreGossipedAgainButNotRecentOnesOrThoseInABlock() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            let received = Mutex<[Hash256]>([])
            let listener = Task {
                await cluster.hub.transport("node1").receive { _, bytes in
                    guard bytes.first == 2,
                        let txs = try? TransactionBatch.decode(Array(bytes.dropFirst()), maxCount: 10_000, hasher: .sha256)
                    else { return }
                    received.withLock { $0 += txs.map(\.id) }
                }
            }
            defer { listener.cancel() }
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
            // The listener registers asynchronously: send until it has something.
            let sent = Mutex<Set<Int>>([])
            let arrived = try await waitUntil(.seconds(10)) {
                let n = service.regossipWaiting(nowMillis: now)
                sent.withLock { _ = $0.insert(n) }
                return !received.withLock { $0.isEmpty }
            }
            #expect(arrived)
            #expect(sent.withLock { $0 } == [1])
            #expect(Set(received.withLock { $0 }) == [old.id])
            // Nothing old enough: nothing sent.
            #expect(service.regossipWaiting(nowMillis: now - 15_000) == 0)
        }
    }
}
