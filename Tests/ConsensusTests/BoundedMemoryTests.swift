import ChainCore
import ChainTesting
import Consensus
import Testing

/// A Byzantine validator floods a replica with everything it can sign on its own: what the
/// replica keeps stays bounded by constants, and the replica still commits afterwards.
@Suite struct BoundedMemoryTests {
    let ids = ["v0", "v1", "v2", "v3"]
    var validators: ValidatorSet { SimCrypto.validatorSet(ids) }
    let genesis = Hash256.sha256(Array("bounded-memory".utf8))
    /// The attacker: v1 signs only as v1.
    var attacker: SimCrypto { SimCrypto(selfID: "v1", ids: ids) }
    let flood = 100_000

    func replica(_ id: String) -> Replica<SimCrypto> {
        Replica(
            validators: validators, crypto: SimCrypto(selfID: id, ids: ids), genesisID: genesis,
            hooks: PayloadHooks(make: { round, _ in Array("\(id)/\(round)".utf8) }, now: { 0 }))
    }

    /// The bound every collection must stay under, whatever the flood.
    func expectBounded(_ f: Footprint, _ config: ConsensusConfig = ConsensusConfig()) {
        let window = Int(config.futureRounds) + 3
        #expect(f.blocks <= 2 * config.keptCommittedBlocks + 8, "\(f)")
        #expect(f.votes <= window * ids.count, "\(f)")
        #expect(f.timeouts <= window * ids.count, "\(f)")
        #expect(f.pendingProposals <= 4, "\(f)")
        #expect(f.pendingCommits <= 16, "\(f)")
        #expect(f.fetches <= 256 + 64, "\(f)")
    }

    @Test func distinctFutureRoundTimeoutsAreNotKept() {
        var victim = replica("v0")
        _ = victim.handle(.start)
        let a = attacker
        for k in 0..<flood {
            let round = UInt64(2 + k)
            let t = TimeoutMessage(
                round: round, highQC: .genesis(genesis), signer: "v1",
                signature: a.sign(TimeoutMessage.signingBytes(round: round, highQCRound: 0)))
            _ = victim.handle(.message(from: "v1", .timeout(t, tc: nil)))
        }
        expectBounded(victim.footprint)
        #expect(victim.footprint.timeouts <= Int(ConsensusConfig().futureRounds) + 1)
        #expect(victim.round == 1)
    }

    /// A validly signed timeout for round 2⁶⁴−1 from a Byzantine validator killed every victim
    /// (the "last heard" round plus the silence window overflowed when the status was read);
    /// found by ByzantinePeerTests over real sockets. A far-future message is not "heard from".
    @Test func aFarFutureTimeoutNeitherCrashesTheStatusNorMarksItsSenderLive() {
        var victim = replica("v0")
        _ = victim.handle(.start)
        let a = attacker
        for round in [UInt64.max, UInt64.max - 1, UInt64.max - 12, 1 << 63] {
            let t = TimeoutMessage(
                round: round, highQC: .genesis(genesis), signer: "v1",
                signature: a.sign(TimeoutMessage.signingBytes(round: round, highQCRound: 0)))
            _ = victim.handle(.message(from: "v1", .timeout(t, tc: nil)))
            #expect(victim.silentValidators.count <= 3)
        }
        #expect(victim.round == 1)
        #expect(victim.lastHeard["v1"] ?? 0 <= 1 + ConsensusConfig().futureRounds)
    }

    @Test func distinctFutureRoundVotesAreNotKept() {
        var victim = replica("v0")
        _ = victim.handle(.start)
        let a = attacker
        for k in 0..<flood {
            // Rounds this replica would collect votes for (it leads round r+1), and many blocks per round.
            let round = UInt64(3 + 4 * (k % 1_000))
            let data = VoteData(
                blockID: Hash256.sha256(Array("fake-\(k)".utf8)), round: round, height: round, parentID: genesis,
                parentRound: 0)
            _ = victim.handle(.message(from: "v1", .vote(Vote(data: data, signer: "v1", signature: a.sign(data.signingBytes)))))
        }
        expectBounded(victim.footprint)
        #expect(victim.footprint.votes <= Int(ConsensusConfig().futureRounds) / 4 + 1)
    }

    @Test func equivocatingAndFutureProposalsAreNotKept() {
        var victim = replica("v0")
        _ = victim.handle(.start)
        let a = attacker
        for k in 0..<flood {
            // v1 leads rounds 1, 5, 9, …: the current round (equivocations) and future ones.
            let round = k % 2 == 0 ? 1 : UInt64(1 + 4 * (k % 5_000))
            let b = ConsensusBlock(
                round: round, parent: .genesis(genesis), payload: Array("spam-\(k)".utf8), timestamp: 0, crypto: a)
            _ = victim.handle(.message(from: "v1", .proposal(b, tc: nil)))
            if k % 3 == 0 {
                // Unsolicited blocks are ignored too.
                _ = victim.handle(.message(from: "v1", .blockResponse([b])))
            }
        }
        expectBounded(victim.footprint)
        #expect(victim.footprint.blocks <= 3)
    }

    @Test func afterTheFloodTheReplicaStillCommits() throws {
        var replicas = ids.map { replica($0) }
        let a = attacker
        for k in 0..<20_000 {
            let round = UInt64(2 + k)
            let t = TimeoutMessage(
                round: round, highQC: .genesis(genesis), signer: "v1",
                signature: a.sign(TimeoutMessage.signingBytes(round: round, highQCRound: 0)))
            _ = replicas[0].handle(.message(from: "v1", .timeout(t, tc: nil)))
        }
        var inbox: [(to: Int, from: String, ConsensusMessage)] = []
        var commits = Array(repeating: 0, count: ids.count)
        func run(_ i: Int, _ actions: [ConsensusAction]) {
            for action in actions {
                switch action {
                case .send(let to, let m): inbox.append((ids.firstIndex(of: to)!, ids[i], m))
                case .broadcast(let m): for j in ids.indices where j != i { inbox.append((j, ids[i], m)) }
                case .commit(let blocks, _): commits[i] += blocks.count
                case .persist, .scheduleTimer, .scheduleProposal, .storeBlock: break
                }
            }
        }
        for i in ids.indices { run(i, replicas[i].handle(.start)) }
        var steps = 0
        while !inbox.isEmpty, commits[0] < 10, steps < 10_000 {
            let (to, from, m) = inbox.removeFirst()
            run(to, replicas[to].handle(.message(from: from, m)))
            steps += 1
        }
        #expect(commits[0] >= 10)
        expectBounded(replicas[0].footprint)
    }
}

/// A replica cut off for hundreds of rounds (far beyond the vote and timeout window) catches up
/// after the heal through the QCs and TCs that proposals and timeouts carry.
@Suite struct CatchUpTests {
    @Test(arguments: [4, 7]) func aReplicaFarBehindTheWindowCatchesUp(validators: Int) {
        for seed: UInt64 in 0..<3 {
            var s = Scenario(name: "far-behind")
            s.validators = validators
            s.partitions = [Partition(groups: [[0], Array(1..<validators)], start: 200, end: 40_000)]
            s.healAt = 40_000
            s.commitsAfterHeal = 5
            let sim = Simulation(seed: seed, scenario: s)
            let report = sim.run()
            #expect(report.passed, "\(report)")
            // The others went on far past the window meanwhile (a round per block at least).
            #expect((report.heights["v1"] ?? 0) > 2 * ConsensusConfig().futureRounds, "\(report)")
        }
    }
}
