import ChainCore
import ChainTesting
import Consensus
import Testing

@testable import Node

/// The consensus loop sends what a replica decided (votes, proposals, timeouts, in their order,
/// with the safety data persisted before them) before it executes and stores committed blocks,
/// unless a committed block may end the epoch.
@Suite struct ActionOrderTests {
    typealias Service = ConsensusService<InMemoryTransport>
    let a = ConsensusBlock.genesis(Hash256.sha256([1]))
    let b = ConsensusBlock.genesis(Hash256.sha256([2]))
    var qc: QuorumCertificate { .genesis(Hash256.sha256([1])) }

    @Test func sendsAndPersistsGoBeforeCommitsInTheirOwnOrder() {
        let actions: [ConsensusAction] = [
            .commit([a], certificate: qc), .persist(SafetyData(highestVotedRound: 2, highestQCRound: 1, highQC: qc)),
            .send(to: "node2", .commitProof(qc)),
            .commit([b], certificate: qc), .broadcast(.commitProof(qc)), .scheduleTimer(round: 3, afterMs: 10),
        ]
        let ordered = Service.sendsBeforeCommits(actions) { _ in false }
        #expect(
            ordered == [
                .persist(SafetyData(highestVotedRound: 2, highestQCRound: 1, highQC: qc)), .send(to: "node2", .commitProof(qc)),
                .broadcast(.commitProof(qc)),
                .scheduleTimer(round: 3, afterMs: 10), .commit([a], certificate: qc), .commit([b], certificate: qc),
            ])
    }

    @Test func aCommitThatMayEndTheEpochKeepsTheReplicasOrder() {
        let actions: [ConsensusAction] = [
            .commit([a], certificate: qc), .send(to: "node2", .commitProof(qc)), .commit([b], certificate: qc),
        ]
        #expect(Service.sendsBeforeCommits(actions) { $0.contains { $0.id == b.id } } == actions)
        let noCommit: [ConsensusAction] = [.broadcast(.commitProof(qc)), .scheduleTimer(round: 1, afterMs: 5)]
        #expect(Service.sendsBeforeCommits(noCommit) { _ in true } == noCommit)
    }

    /// A run of storage actions is written in one transaction: its blocks in order and the last
    /// safety data; a send ends the run (what it needs is durable before it leaves).
    @Test func aRunOfStorageActionsIsOneWriteUpToTheNextSend() {
        let s1 = SafetyData(highestVotedRound: 1, highestQCRound: 0, highQC: qc)
        let s2 = SafetyData(highestVotedRound: 2, highestQCRound: 1, highQC: qc)
        // A leader: persist (its proposal's round), broadcast, its own block and vote.
        let leader: [ConsensusAction] = [
            .persist(s1), .broadcast(.commitProof(qc)), .storeBlock(a), .persist(s2), .send(to: "node1", .commitProof(qc)),
        ]
        let first = Service.storageRun(leader, from: 0)
        #expect(first.blocks.isEmpty && first.safety == s1 && first.end == 1)
        let second = Service.storageRun(leader, from: 2)
        #expect(second.blocks.map(\.id) == [a.id] && second.safety == s2 && second.end == 4)
        // Blocks only, up to the end of the list.
        let fetched = Service.storageRun([.storeBlock(a), .storeBlock(b)], from: 0)
        #expect(fetched.blocks.map(\.id) == [a.id, b.id] && fetched.safety == nil && fetched.end == 2)
        // Two persists in a row: the later holds the whole state.
        let twice = Service.storageRun([.persist(s1), .persist(s2), .scheduleTimer(round: 3, afterMs: 5)], from: 0)
        #expect(twice.safety == s2 && twice.end == 2)
    }
}
