import ChainCore
import ChainTesting
import Execution
import Foundation
import Identity
import Storage
import Testing

@testable import Node

/// Admission (a client's submission, a peer's gossip) checks the store for the transaction and
/// then adds it to the mempool, outside the lock under which blocks commit. A block holding it
/// that commits between the two steps used to leave it waiting in the mempool as if it were not
/// committed: this validator then proposed it again, in blocks every other validator refuses.
@Suite struct CommittedAdmissionRaceTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4) }

    @Test func aTransactionCheckedBeforeItsBlockCommitsIsNotAddedAfterIt() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, validator: 0)
            let farm = try consortium.identity(.farm)
            let now = ChainNode.nowMillis()
            let tx = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(), timestamp: now)
            // The gossip worker: verified, and the store says "not committed"...
            let verified = try node.verifier.verify(tx, nowMillis: now)
            #expect(try node.store.committedIDs(among: [(tx.id, verified.body.timestamp)]).isEmpty)
            // ...then the block holding it (proposed by another validator) commits here...
            #expect(try node.commitBlock([verified], proposer: "node1", timestamp: now, consensusBlock: nil) != nil)
            // ...and only then does the worker add it: refused, as committed.
            let refused = #expect(throws: ChainError.self) { try node.mempool.add(verified) }
            #expect(refused?.code == .duplicateTx)
            #expect(!node.mempool.contains(tx.id))
            #expect(node.mempool.adopt([verified]) == 0)
            #expect(!node.mempool.contains(tx.id))
            // So a proposal from this validator does not carry it again.
            let proposal = ConsensusService<InMemoryTransport>.candidates(
                node: node, pending: PendingBlocks(), parent: .zero, maxTxs: 100, nowMillis: ChainNode.nowMillis())
            #expect(proposal.isEmpty)
        }
    }

    @Test func removedAsCommittedIsRefusedButPlainRemovalIsNotAndTheMemoryIsBounded() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, validator: 0)
            let farm = try consortium.identity(.farm)
            let now = ChainNode.nowMillis()
            let txs = try (0..<5).map { i in
                try node.verifier.verify(
                    try farm.transaction(
                        chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(),
                        timestamp: now - Int64(i)),
                    nowMillis: now)
            }
            let pool = Mempool(capacity: 2)
            try pool.add(txs[0])
            pool.remove([txs[0].id])
            try pool.add(txs[0])  // not committed: may come back
            pool.removeCommitted([txs[0].id])
            #expect(pool.wasCommitted(txs[0].id) && pool.count == 0)
            let refused = #expect(throws: ChainError.self) { try pool.add(txs[0]) }
            #expect(refused?.code == .duplicateTx)
            // The last `capacity` committed ids are remembered: older ones are the store's to refuse.
            pool.removeCommitted([txs[1].id, txs[2].id])
            #expect(!pool.wasCommitted(txs[0].id) && pool.wasCommitted(txs[1].id) && pool.wasCommitted(txs[2].id))
            try pool.add(txs[0])
            #expect(pool.count == 1)
        }
    }
}
