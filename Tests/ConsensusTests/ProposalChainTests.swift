import ChainCore
import ChainTesting
import Consensus
import Synchronization
import Testing

/// A leader makes its payload knowing what its parent's chain carries, so that it never repeats
/// a transaction an uncommitted ancestor holds (every replica would refuse such a block and the
/// round would time out).
///
/// Seen under load on a 4-validator network: the votes for block B reached the next leader
/// before B's proposal did; it formed B's QC, entered the next round and proposed on B at once,
/// with a payload made without B's transactions excluded (it did not hold B). The three others
/// refused the block (`in earlier block`), no QC formed, and the round timed out (2-3 s stalls).
@Suite struct ProposalChainTests {
    let ids = ["v0", "v1", "v2", "v3"]
    let genesis = Hash256.sha256(Array("proposal-chain".utf8))

    /// What a replica's hooks saw: the blocks it was told of, and at each `make` whether the
    /// parent was among them.
    final class Seen: Sendable {
        let inserted = Mutex<Set<Hash256>>([])
        let makes = Mutex<[(parent: Hash256, known: Bool)]>([])
    }

    func replica(_ id: String, _ seen: Seen) -> Replica<SimCrypto> {
        var config = ConsensusConfig()
        config.reputationWindow = 0
        let genesis = genesis
        return Replica(
            validators: SimCrypto.validatorSet(ids), crypto: SimCrypto(selfID: id, ids: ids), genesisID: genesis,
            config: config,
            hooks: PayloadHooks(
                make: { round, parent in
                    let known = parent == genesis || seen.inserted.withLock { $0.contains(parent) }
                    seen.makes.withLock { $0.append((parent, known)) }
                    return Array("\(id)/\(round)".utf8)
                },
                now: { 0 },
                inserted: { block in _ = seen.inserted.withLock { $0.insert(block.id) } }))
    }

    /// Four replicas started at genesis: what their hooks saw, the replicas, what each did at
    /// start, and round 1's leader with its proposal.
    func started() throws -> (
        seen: [String: Seen], replicas: [String: Replica<SimCrypto>], actions: [String: [ConsensusAction]], l1: String,
        b1: ConsensusBlock
    ) {
        let seen = Dictionary(uniqueKeysWithValues: ids.map { ($0, Seen()) })
        var replicas = Dictionary(uniqueKeysWithValues: ids.map { ($0, replica($0, seen[$0]!)) })
        var actions: [String: [ConsensusAction]] = [:]
        for id in ids { actions[id] = replicas[id]!.handle(.start) }
        let l1 = replicas["v0"]!.leader(of: 1)
        let b1 = try #require(Self.proposals(actions[l1]!).first)
        return (seen, replicas, actions, l1, b1)
    }

    static func proposals(_ actions: [ConsensusAction]) -> [ConsensusBlock] {
        actions.compactMap { if case .broadcast(.proposal(let b, _)) = $0 { return b } else { return nil } }
    }

    @Test func aLeaderWhoseVotesOutranTheProposalFetchesTheBlockBeforeProposingOnIt() throws {
        var (seen, replicas, started, l1, b1) = try started()
        let l2 = replicas["v0"]!.leader(of: 2)
        try #require(l1 != l2)

        // B1 reaches everyone but the next leader; their votes reach it.
        var votes: [Vote] = started[l1]!.compactMap { if case .send(l2, .vote(let v)) = $0 { return v } else { return nil } }
        for id in ids where id != l1 && id != l2 {
            let out = replicas[id]!.handle(.message(from: l1, .proposal(b1, tc: nil)))
            votes += out.compactMap { if case .send(l2, .vote(let v)) = $0 { return v } else { return nil } }
        }
        try #require(votes.count == 3)
        var atL2: [ConsensusAction] = []
        for v in votes { atL2 += replicas[l2]!.handle(.message(from: v.signer, .vote(v))) }
        #expect(replicas[l2]!.round == 2)
        // It does not propose on a block it does not hold: it asks signers of the QC for it.
        #expect(Self.proposals(atL2).isEmpty, "proposed on a parent it does not hold: \(atL2)")
        let asked = atL2.compactMap { a -> String? in
            if case .send(let to, .blockRequest(let id, _)) = a, id == b1.id { return to } else { return nil }
        }
        #expect(!asked.isEmpty && !asked.contains(l2), "\(atL2)")
        #expect(seen[l2]!.makes.withLock { $0.isEmpty })

        // One of them answers: now it proposes on B1, its payload made with B1 known.
        let holder = try #require(asked.first)
        let answer = replicas[holder]!.handle(.message(from: l2, .blockRequest(id: b1.id, count: 4)))
        let list = try #require(
            answer.compactMap { a -> [ConsensusBlock]? in
                if case .send(l2, .blockResponse(let list)) = a { return list } else { return nil }
            }.first)
        let after = replicas[l2]!.handle(.message(from: holder, .blockResponse(list)))
        let b2 = try #require(Self.proposals(after).first, "no proposal once the parent arrived: \(after)")
        #expect(b2.parentID == b1.id && b2.round == 2)
        let makes = seen[l2]!.makes.withLock { $0 }
        #expect(makes.count == 1 && makes.allSatisfy { $0.parent == b1.id && $0.known })

        // The block is good: the others vote for it (the next round's leader keeps its own vote).
        for id in ids where id != l2 && id != replicas[id]!.leader(of: 3) {
            let out = replicas[id]!.handle(.message(from: l2, .proposal(b2, tc: nil)))
            #expect(out.contains { if case .send(_, .vote) = $0 { return true } else { return false } }, "\(id): \(out)")
        }
    }

    /// A proposal taken in is told to the hooks as it enters the tree, by every replica (its
    /// leader included), before the event's `.storeBlock` action is carried out.
    @Test func everyUncommittedBlockIsToldToTheHooksWhenItEntersTheTree() throws {
        var (seen, replicas, _, l1, b1) = try started()
        for id in ids where id != l1 { _ = replicas[id]!.handle(.message(from: l1, .proposal(b1, tc: nil))) }
        for id in ids { #expect(seen[id]!.inserted.withLock { $0.contains(b1.id) }, "\(id)") }
    }
}
