import ChainCore
import Consensus
import Testing

/// Four replicas with real Ed25519 keys, messages passed in order: the protocol commits with
/// the suite's signatures, not only with the simulation's keyed hashes.
@Suite struct RealCryptoTests {
    @Test(arguments: CryptoSuite.allCases) func fourReplicasCommitWithRealSignatures(suite: CryptoSuite) throws {
        let ids = ["n0", "n1", "n2", "n3"]
        let keys = ids.map { _ in SigningKey.generate(suite) }
        let set = try ValidatorSet(ids: ids, keys: Dictionary(uniqueKeysWithValues: zip(ids, keys.map(\.publicKeyBytes))))
        let genesis = Hash256.sha256([42])
        var replicas = ids.indices.map { i in
            Replica(
                validators: set, crypto: SuiteCrypto(selfID: ids[i], key: keys[i], validators: set), genesisID: genesis,
                hooks: PayloadHooks(make: { round, _ in Array("block \(round)".utf8) }, now: { 0 }))
        }
        var inbox: [(to: Int, from: String, ConsensusMessage)] = []
        var committed = Array(repeating: [Hash256](), count: 4)
        func run(_ i: Int, _ actions: [ConsensusAction]) {
            for a in actions {
                switch a {
                case .send(let to, let m): inbox.append((ids.firstIndex(of: to)!, ids[i], m))
                case .broadcast(let m): for j in ids.indices where j != i { inbox.append((j, ids[i], m)) }
                case .commit(let blocks, _): committed[i] += blocks.map(\.id)
                case .persist, .scheduleTimer, .scheduleProposal, .storeBlock: break
                }
            }
        }
        for i in ids.indices { run(i, replicas[i].handle(.start)) }
        var steps = 0
        while !inbox.isEmpty, committed.map(\.count).min()! < 10, steps < 10_000 {
            let (to, from, m) = inbox.removeFirst()
            // Messages also cross the wire format.
            run(to, replicas[to].handle(.message(from: from, try ConsensusMessage.decode(m.encoded, hasher: suite.hasher))))
            steps += 1
        }
        #expect(committed.allSatisfy { $0.count >= 10 })
        let shortest = committed.map(\.count).min()!
        #expect(Set(committed.map { Array($0.prefix(shortest)) }).count == 1)
    }

    @Test func aLeaderRestartedRightAfterProposingDoesNotProposeAgainInThatRound() throws {
        let ids = ["n0", "n1", "n2", "n3"]
        let keys = ids.map { _ in SigningKey.generate(.ed25519) }
        let set = try ValidatorSet(ids: ids, keys: Dictionary(uniqueKeysWithValues: zip(ids, keys.map(\.publicKeyBytes))))
        let genesis = Hash256.sha256([42])
        let leader = set.leader(of: 1)
        let i = try #require(ids.firstIndex(of: leader))
        func replica(_ safety: SafetyData?, payload: String) -> Replica<SuiteCrypto> {
            Replica(
                validators: set, crypto: SuiteCrypto(selfID: leader, key: keys[i], validators: set), genesisID: genesis,
                hooks: PayloadHooks(make: { _, _ in Array(payload.utf8) }, now: { 0 }), safety: safety)
        }
        var first = replica(nil, payload: "first")
        let actions = first.handle(.start)
        // The proposal leaves only after the safety data that records it is persisted.
        let persistIndex = try #require(actions.firstIndex { if case .persist = $0 { true } else { false } })
        let broadcastIndex = try #require(actions.firstIndex { if case .broadcast(.proposal) = $0 { true } else { false } })
        #expect(persistIndex < broadcastIndex)
        guard case .persist(let saved) = actions[persistIndex] else { return }
        #expect(saved.lastProposedRound == 1)
        // Crash between persisting and voting, restart from what was persisted (through its bytes).
        var restarted = replica(try SafetyData.decode(saved.encoded), payload: "second")
        let again = restarted.handle(.start)
        #expect(!again.contains { if case .broadcast(.proposal) = $0 { true } else { false } })
    }
}
