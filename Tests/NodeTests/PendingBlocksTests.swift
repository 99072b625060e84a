import ChainCore
import ChainTesting
import Consensus
import Synchronization
import Testing

@testable import Node

/// What the node keeps of uncommitted blocks: a block the replica only took into its tree
/// (fetched, or proposed in an earlier round) counts in the chain like a validated one, its
/// transaction ids read from its payload once, when a walk first needs them.
@Suite struct PendingBlocksTests {
    final class Reads: Sendable { let count = Atomic<Int>(0) }

    @Test func aNotedBlockCountsInItsChainAndIsReadOnce() {
        let genesis = Hash256.sha256([0])
        let crypto = SimCrypto(selfID: "v0", ids: ["v0"])
        let b1 = ConsensusBlock(round: 1, parent: .genesis(genesis), payload: [1], timestamp: 0, crypto: crypto)
        let b2 = ConsensusBlock(
            round: 2, parent: QuorumCertificate(data: b1.voteData, votes: []), payload: [2], timestamp: 0, crypto: crypto)
        let (x, y, z) = (Hash256.sha256([10]), Hash256.sha256([11]), Hash256.sha256([12]))
        let pending = PendingBlocks()
        let reads = Reads()
        pending.note(b1) {
            reads.count.add(1, ordering: .relaxed)
            return [x, y]
        }
        #expect(reads.count.load(ordering: .relaxed) == 0)
        pending.record(b2, txids: [z], verified: nil)
        #expect(pending.txids(inChainFrom: b2.id) == [x, y, z])
        #expect(pending.txids(inChainFrom: b2.id) == [x, y, z])
        #expect(pending.allTxids() == [x, y, z])
        #expect(reads.count.load(ordering: .relaxed) == 1)
        // Noting again, or validating it later, keeps what is known.
        pending.note(b1) { [] }
        pending.record(b1, txids: [x, y], verified: [])
        #expect(pending.txids(inChainFrom: b1.id) == [x, y])
        #expect(pending.verified(b1.id)?.isEmpty == true)
        pending.drop(upTo: b1.height)
        #expect(pending.txids(inChainFrom: b2.id) == [z])
    }

    @Test func aValidatedBlockNotedAfterwardsIsNotReadAgain() {
        let crypto = SimCrypto(selfID: "v0", ids: ["v0"])
        let b1 = ConsensusBlock(round: 1, parent: .genesis(Hash256.sha256([0])), payload: [1], timestamp: 0, crypto: crypto)
        let pending = PendingBlocks()
        pending.record(b1, txids: [Hash256.sha256([1])], verified: nil)
        let reads = Reads()
        pending.note(b1) {
            reads.count.add(1, ordering: .relaxed)
            return []
        }
        #expect(pending.txids(inChainFrom: b1.id) == [Hash256.sha256([1])])
        #expect(reads.count.load(ordering: .relaxed) == 0)
    }
}
