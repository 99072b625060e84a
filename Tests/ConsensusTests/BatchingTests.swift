import ChainCore
import Consensus
import Synchronization
import Testing

/// Batching under load (`ConsensusConfig.minBlockIntervalMs`): a leader holding transactions but
/// not a full block proposes no sooner than the interval after the block it extends; a full
/// payload, and a block extending an old one (an idle network's first), go at once.
@Suite struct BatchingTests {
    /// Four replicas with real keys on a discrete clock: each message arrives 1 ms after it was
    /// sent, a `scheduleProposal` fires at its time, round timers are ignored (nobody fails).
    /// `payload(now)` is what every leader's mempool offers. Returns the committed blocks of
    /// replica 0 and the delays leaders asked for.
    func run(
        intervalMs: Int, emptyDelayMs: Int = 0, arrivals: [Int64] = [], until end: Int64,
        payload: @escaping @Sendable (Int64) -> [UInt8]
    ) throws -> (blocks: [ConsensusBlock], delays: [Int]) {
        let ids = ["n0", "n1", "n2", "n3"]
        let keys = ids.map { _ in SigningKey.generate(.ed25519) }
        let set = try ValidatorSet(ids: ids, keys: Dictionary(uniqueKeysWithValues: zip(ids, keys.map(\.publicKeyBytes))))
        let clock = Atomic<Int64>(1_000)
        var config = ConsensusConfig()
        config.minBlockIntervalMs = intervalMs
        config.emptyProposalDelayMs = emptyDelayMs
        config.reputationWindow = 0
        let hooks = PayloadHooks(
            make: { _, _ in payload(clock.load(ordering: .relaxed)) }, now: { clock.load(ordering: .relaxed) },
            isEmpty: { $0.isEmpty }, isFull: { $0 == Array("full".utf8) })
        var replicas = ids.indices.map { i in
            Replica(
                validators: set, crypto: SuiteCrypto(selfID: ids[i], key: keys[i], validators: set),
                genesisID: Hash256.sha256([7]), config: config, hooks: hooks)
        }
        // (time, sequence, node, event)
        var queue: [(Int64, Int, Int, ConsensusEvent)] = []
        var sequence = 0
        var committed: [ConsensusBlock] = []
        var delays: [Int] = []
        func carry(_ i: Int, _ actions: [ConsensusAction]) {
            let now = clock.load(ordering: .relaxed)
            for a in actions {
                sequence += 1
                switch a {
                case .send(let to, let m): queue.append((now + 1, sequence, ids.firstIndex(of: to)!, .message(from: ids[i], m)))
                case .broadcast(let m):
                    for j in ids.indices where j != i { queue.append((now + 1, sequence, j, .message(from: ids[i], m))) }
                case .commit(let blocks, _): if i == 0 { committed += blocks }
                case .scheduleProposal(let round, let afterMs, let epoch):
                    delays.append(afterMs)
                    queue.append((now + Int64(afterMs), sequence, i, .proposalDue(round: round, epoch: epoch)))
                case .persist, .scheduleTimer, .storeBlock: break
                }
            }
        }
        for i in ids.indices { carry(i, replicas[i].handle(.start)) }
        // Transactions arriving: every node's driver wakes its replica (`payloadReady`).
        for t in arrivals {
            for i in ids.indices {
                sequence += 1
                queue.append((t, sequence, i, .payloadReady))
            }
        }
        while let next = queue.indices.min(by: { (queue[$0].0, queue[$0].1) < (queue[$1].0, queue[$1].1) }) {
            let (time, _, node, event) = queue.remove(at: next)
            guard time <= end else { break }
            clock.store(max(clock.load(ordering: .relaxed), time), ordering: .relaxed)
            carry(node, replicas[node].handle(event))
        }
        return (committed, delays)
    }

    /// A steady stream of transactions: with a 50 ms interval a block follows its parent by at
    /// least 50 ms (one proposal every 50 ms instead of one every round trip of ~3 ms); without
    /// it, rounds run back to back and no leader waits.
    @Test func underLoadBlocksAreAtLeastTheIntervalApart() throws {
        let batched = try run(intervalMs: 50, until: 3_000) { _ in Array("txs".utf8) }
        let gaps = zip(batched.blocks.dropFirst(), batched.blocks).map { $0.timestamp - $1.timestamp }
        #expect(batched.blocks.count >= 30, "\(batched.blocks.count) blocks")
        #expect(gaps.allSatisfy { $0 >= 50 }, "\(gaps)")
        #expect(!batched.delays.isEmpty && batched.delays.allSatisfy { (1...50).contains($0) }, "\(batched.delays)")
        let unbatched = try run(intervalMs: 0, until: 3_000) { _ in Array("txs".utf8) }
        #expect(unbatched.delays.isEmpty)
        #expect(unbatched.blocks.count > 10 * batched.blocks.count, "\(unbatched.blocks.count) against \(batched.blocks.count)")
    }

    /// A full payload goes at once, however recent the parent.
    @Test func aFullPayloadIsProposedAtOnce() throws {
        let full = try run(intervalMs: 50, until: 1_500) { _ in Array("full".utf8) }
        #expect(full.delays.isEmpty)
        #expect(full.blocks.count > 50)
    }

    /// A transaction after a quiet spell: its block extends one older than the interval and is
    /// proposed without waiting (the leader deferred its empty proposal and is woken).
    @Test func theFirstTransactionAfterAQuietSpellIsNotDelayed() throws {
        // Transactions until 1,200 ms, then none (empty proposals deferred 500 ms), then one at 2,000.
        let result = try run(intervalMs: 50, emptyDelayMs: 500, arrivals: [2_000], until: 2_400) { now in
            now < 1_200 || (2_000...2_001).contains(now) ? Array("tx".utf8) : []
        }
        let late = try #require(result.blocks.first { $0.timestamp >= 2_000 && !$0.payload.isEmpty })
        #expect(late.timestamp <= 2_001, "proposed at \(late.timestamp)")
    }

    /// A transaction arriving just after a block, while the next leader defers its empty proposal:
    /// the wakeup turns the empty deferral into batching, so the block goes at the interval after
    /// its parent, not at once and not at the end of the empty deferral.
    @Test func aWakeupSoonAfterABlockWaitsForTheIntervalNotTheEmptyDeferral() throws {
        // Without transactions: empty blocks every ~500 ms; pick one well into the run.
        let quiet = try run(intervalMs: 50, emptyDelayMs: 500, until: 5_000) { _ in [] }
        let parent = try #require(quiet.blocks.first { $0.timestamp >= 2_500 })
        let arrival = parent.timestamp + 10
        let result = try run(intervalMs: 50, emptyDelayMs: 500, arrivals: [arrival], until: 5_000) { now in
            now >= arrival ? Array("tx".utf8) : []
        }
        let first = try #require(result.blocks.first { !$0.payload.isEmpty })
        #expect(first.parentID == parent.id, "the transaction's block extends the block before it")
        #expect(first.timestamp == parent.timestamp + 50, "proposed at \(first.timestamp), parent at \(parent.timestamp)")
        #expect(result.delays.contains(40), "\(result.delays)")
    }
}
