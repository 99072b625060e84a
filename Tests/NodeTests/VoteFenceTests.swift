import ChainCore
import Consensus
import Foundation
import Node
import Testing

/// The rounds a restored validator stays out of.
struct VoteFenceTests {
    @Test func ownMessagesAtOrBelowTheFenceAreHeldBackAndLaterOnesPass() throws {
        let fence = VoteFence(epoch: 2, round: 10)
        func timeout(epoch: UInt64, round: UInt64) -> ConsensusMessage {
            let qc = QuorumCertificate.root(epoch: epoch, blockID: Hash256.sha256(Array("root".utf8)), height: 0)
            return .timeout(TimeoutMessage(round: round, highQC: qc, signer: "n", signature: []), tc: nil)
        }
        #expect(fence.holdsBack(timeout(epoch: 2, round: 10)))
        #expect(fence.holdsBack(timeout(epoch: 2, round: 3)))
        #expect(fence.holdsBack(timeout(epoch: 1, round: 500)))
        #expect(!fence.holdsBack(timeout(epoch: 2, round: 11)))
        #expect(!fence.holdsBack(timeout(epoch: 3, round: 1)))
        let data = VoteData(epoch: 2, blockID: .zero, round: 10, height: 5, parentID: .zero, parentRound: 9)
        #expect(fence.holdsBack(.vote(Vote(data: data, signer: "n", signature: []))))
        #expect(!fence.holdsBack(.blockRequest(id: .zero, count: 1)))
    }

    @Test func aDamagedFenceFileStopsTheNode() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fence-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        #expect(try VoteFence.load(home: home) == nil)
        try VoteFence(epoch: 1, round: 7).write(home: home)
        #expect(try VoteFence.load(home: home) == VoteFence(epoch: 1, round: 7))
        try Data("{\"epoch\":1".utf8).write(to: VoteFence.url(home: home))
        #expect(throws: ChainError.self) { try VoteFence.load(home: home) }
    }
}
