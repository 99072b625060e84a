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
}
