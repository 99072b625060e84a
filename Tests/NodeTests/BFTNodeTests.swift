import ChainCore
import ChainTesting
import Consensus
import Execution
import Foundation
import Identity
import Logging
import Storage
import Testing

@testable import Node

/// Four validators in one process: real nodes (mempool, execution, SQLite files), the real
/// consensus service, an in-memory network that can cut nodes off.
@Suite(.serialized) struct BFTNodeTests {
    @Test func fourValidatorsCommitTheSameChainAndSurviveOneAndTwoOutages() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir)
            let nodes = cluster.nodes

            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in cluster.services { group.addTask { try await s.run() } }

                // Transactions submitted to any validator are committed by all four.
                let first = try cluster.submit(40, to: [0, 1, 2, 3])
                #expect(try await waitUntil { try cluster.committedEverywhere(first, on: [0, 1, 2, 3]) })
                // The same chain everywhere, each block signed by a quorum of validators.
                #expect(try await waitUntil { try Set(nodes.map { try $0.store.tip()?.hash }).count == 1 })
                let height = try #require(try nodes[0].store.tip()?.height)
                let keys = try cluster.consortium.genesis.validatorKeys()
                #expect(
                    try await waitUntil {
                        try (1...height).allSatisfy { h in
                            let b = try nodes[0].store.block(at: h)!
                            return b.signatures.filter {
                                CryptoSuite.ed25519.verify(
                                    signature: $0.signature, message: b.header.signingMessage, publicKey: keys[$0.validator]!)
                            }.count >= 3
                        }
                    })

                // One validator cut off: the other three keep committing.
                cluster.hub.setDown("node3", true)
                let second = try cluster.submit(20, to: [0, 1, 2])
                let ok = try await waitUntil { try cluster.committedEverywhere(second, on: [0, 1, 2]) }
                if !ok {
                    for (k, s) in cluster.services.enumerated() {
                        let st = s.status
                        print(
                            "node\(k): round \(st.round) leader \(st.leader) hqc \(st.highQCRound) committed \(try nodes[k].store.committedIDs(among: second).count)/\(second.count) mempool \(nodes[k].mempool.count) peers \(st.peersConnected) stalled \(st.stalled ?? "-")"
                        )
                    }
                }
                #expect(ok)
                // The others name it as down, and never as the leader of a healthy chain (it is
                // elected no more; a round-robin round it leads is reported as waiting for its timeout).
                try await Self.expectNamedDown("node3", by: Array(cluster.services[0...2]))

                // Two cut off: nothing commits, and the status says why.
                cluster.hub.setDown("node2", true)
                let third = try cluster.submit(6, to: [0, 1])
                try await Task.sleep(for: .seconds(2))
                #expect(try nodes[0].store.committedIDs(among: third).isEmpty)
                #expect(cluster.services[0].status.stalled?.contains("2 of 4 validators unreachable") == true)

                // Both come back: the chain moves on and they catch up.
                cluster.hub.setDown("node2", false)
                cluster.hub.setDown("node3", false)
                #expect(
                    try await waitUntil(.seconds(60)) {
                        try cluster.committedEverywhere(first + second + third, on: [0, 1, 2, 3])
                    })
                #expect(try await waitUntil { try Set(nodes.map { try $0.store.tip()?.hash }).count == 1 })
                // node3 missed the others' finality signatures of the blocks made while it was
                // away; it asks for them, so its blocks (and the proofs it serves) hold a quorum.
                let caughtUp = try #require(try nodes[3].store.tip()?.height)
                let quorate = try await waitUntil(.seconds(30)) {
                    try (1..<caughtUp).allSatisfy { h in
                        let b = try nodes[3].store.block(at: h)!
                        return b.signatures.filter {
                            CryptoSuite.ed25519.verify(
                                signature: $0.signature, message: b.header.signingMessage, publicKey: keys[$0.validator]!)
                        }.count >= 3
                    }
                }
                #expect(quorate, "node3's blocks lack finality signatures after it came back")
                group.cancelAll()
            }
        }
    }
}

extension BFTNodeTests {
    /// Committed consensus blocks are pruned below `consensusBlocksKept` heights; a validator cut
    /// off while the others commit well past that window (57 blocks against 20 kept) still
    /// catches up once it is back, and commits what they committed meanwhile.
    @Test func aValidatorDownLongerThanTheKeptConsensusBlocksCatchesUp() async throws {
        try await withTemporaryDirectory { dir in
            let cluster = try Cluster(in: dir, consensusBlocksKept: 20)
            let nodes = cluster.nodes
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in cluster.services { group.addTask { try await s.run() } }
                let first = try cluster.submit(10, to: [0, 1, 2, 3])
                #expect(try await waitUntil { try cluster.committedEverywhere(first, on: [0, 1, 2, 3]) })
                let timeoutsBefore = cluster.services.prefix(3).map(\.status.timeoutsSent)
                cluster.hub.setDown("node3", true)
                var all = first
                for _ in 0..<30 {
                    let more = try cluster.submit(3, to: [0, 1, 2])
                    all += more
                    #expect(try await waitUntil { try cluster.committedEverywhere(more, on: [0, 1, 2]) })
                }
                // The rounds node3 was to lead timed out at the others, and their status counts them.
                let timeoutsAfter = cluster.services.prefix(3).map(\.status.timeoutsSent)
                #expect(zip(timeoutsBefore, timeoutsAfter).allSatisfy { $0 < $1 }, "\(timeoutsBefore) → \(timeoutsAfter)")
                let ahead = try nodes[0].store.tip()?.height ?? 0
                #expect(ahead > 40 + (try nodes[3].store.tip()?.height ?? 0), "the others did not get past the window")
                #expect(try nodes[0].store.consensus.committedBlockCount() <= 21)
                cluster.hub.setDown("node3", false)
                let last = try cluster.submit(3, to: [0, 1, 2])
                #expect(try await waitUntil(.seconds(60)) { try cluster.committedEverywhere(all + last, on: [0, 1, 2, 3]) })
                #expect(try await waitUntil { try Set(nodes.map { try $0.store.tip()?.hash }).count == 1 })
                group.cancelAll()
            }
        }
    }

    /// Waits until every one of `services` lists `id` (and only it) as down, then checks for a
    /// second that none names it as the leader of a healthy chain.
    static func expectNamedDown<T>(_ id: String, by services: [ConsensusService<T>]) async throws {
        var named = false
        for _ in 0..<300 where !named {
            named = services.allSatisfy { $0.status.down == [id] }
            if !named { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(named, "down lists: \(services.map { $0.status.down })")
        for _ in 0..<20 {
            for st in services.map(\.status) {
                #expect(st.leader != id || st.stalled?.contains("\(id) is down") == true, "\(st)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Validation before voting, on its own.
@Suite struct BlockValidationTests {
    @Test func aKnownBodyWithAnotherSignatureIsVerifiedNotTrusted() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4)
            let node = try consortium.node(in: dir, validator: 0)
            let farm = try consortium.identity(.farm)
            let tx = try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            try node.submit(tx)
            // The same body, a forged signature: same txid, different bytes.
            let forged = SignedTransaction(
                body: tx.body, signature: Array(repeating: 7, count: 64), signerCertificate: tx.signerCertificate, hasher: .sha256
            )
            #expect(forged.id == tx.id)
            let crypto = SuiteCrypto(
                selfID: "node0", key: consortium.nodeKeys[0],
                validators: try ValidatorSet(
                    ids: consortium.genesis.validators.map(\.nodeId), keys: consortium.genesis.validatorKeys()))
            func block(_ txs: [SignedTransaction]) -> ConsensusBlock {
                ConsensusBlock(
                    round: 4, parent: .genesis(node.genesisHash), payload: TransactionBatch.encode(txs),
                    timestamp: ChainNode.nowMillis(),
                    crypto: crypto)
            }
            func valid(_ b: ConsensusBlock) -> Bool {
                ConsensusService<InMemoryTransport>.validate(
                    b, node: node, pending: PendingBlocks(), maxTxs: 100, tolerance: 600_000)
            }
            #expect(valid(block([tx])))
            #expect(!valid(block([forged])))
            #expect(!valid(block([tx, tx])))
        }
    }

    /// A transaction first seen in a leader's proposal is verified once: validation keeps it in the
    /// mempool, so the gossip that brings the same bytes later is recognised and not verified again
    /// (before, under load, about a third of a replica's verifications were such repeats).
    @Test func aTransactionFirstSeenInAProposalIsKeptSoItsGossipIsNotVerifiedAgain() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4)
            let node = try consortium.node(in: dir, validator: 1)
            let farm = try consortium.identity(.farm)
            let txs = try (0..<3).map { _ in
                try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            }
            let crypto = SuiteCrypto(
                selfID: "node0", key: consortium.nodeKeys[0],
                validators: try ValidatorSet(
                    ids: consortium.genesis.validators.map(\.nodeId), keys: consortium.genesis.validatorKeys()))
            let block = ConsensusBlock(
                round: 4, parent: .genesis(node.genesisHash), payload: TransactionBatch.encode(txs),
                timestamp: ChainNode.nowMillis(), crypto: crypto)
            #expect(node.mempool.count == 0)
            #expect(
                ConsensusService<InMemoryTransport>.validate(
                    block, node: node, pending: PendingBlocks(), maxTxs: 100, tolerance: 600_000))
            #expect(txs.allSatisfy { node.mempool.transaction($0.id)?.transaction == $0 })
            // The gossip of the same transactions adds nothing; a refused block adopts nothing.
            node.admitGossiped(txs)
            #expect(node.mempool.count == 3)
            let other = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            let forged = SignedTransaction(
                body: other.body, signature: Array(repeating: 7, count: 64), signerCertificate: other.signerCertificate,
                hasher: .sha256)
            #expect(
                !ConsensusService<InMemoryTransport>.validate(
                    ConsensusBlock(
                        round: 5, parent: .genesis(node.genesisHash), payload: TransactionBatch.encode([other, forged]),
                        timestamp: ChainNode.nowMillis(), crypto: crypto),
                    node: node, pending: PendingBlocks(), maxTxs: 100, tolerance: 600_000))
            #expect(node.mempool.count == 3 && !node.mempool.contains(other.id))

            // Bounded: a pool keeps proposals' transactions up to twice its capacity, no more.
            let small = Mempool(capacity: 2)
            let five = try (0..<5).map { _ in
                try node.verifier.verify(
                    try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()),
                    nowMillis: ChainNode.nowMillis())
            }
            #expect(small.adopt(five) == 4 && small.count == 4)
            #expect(throws: ChainError.self) { try small.add(five[4]) }
            #expect(small.adopt(five) == 0)
        }
    }

    /// A proposal's transactions this node has not seen are verified together, in one batch, with
    /// the verdicts one by one would give: all good, the block is taken with its transactions in
    /// the block's order (known ones where they stand); one forged among them, in any place, and
    /// the block is refused and nothing of it adopted.
    @Test func aProposalsUnseenTransactionsAreVerifiedTogetherWithTheVerdictsOfOneByOne() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4)
            let node = try consortium.node(in: dir, validator: 1)
            let farm = try consortium.identity(.farm)
            let crypto = SuiteCrypto(
                selfID: "node0", key: consortium.nodeKeys[0],
                validators: try ValidatorSet(
                    ids: consortium.genesis.validators.map(\.nodeId), keys: consortium.genesis.validatorKeys()))
            func make(_ n: Int) throws -> [SignedTransaction] {
                try (0..<n).map { _ in
                    try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                }
            }
            func block(_ txs: [SignedTransaction], round: UInt64) -> ConsensusBlock {
                ConsensusBlock(
                    round: round, parent: .genesis(node.genesisHash), payload: TransactionBatch.encode(txs),
                    timestamp: ChainNode.nowMillis(), crypto: crypto)
            }
            // Two held by the mempool already, 70 not (more than one batch group of 64).
            let held = try make(2)
            for tx in held { try node.submit(tx) }
            let unseen = try make(70)
            let ordered = [unseen[0]] + [held[0]] + Array(unseen[1..<40]) + [held[1]] + Array(unseen[40...])
            let pending = PendingBlocks()
            let good = block(ordered, round: 4)
            #expect(
                ConsensusService<InMemoryTransport>.validate(good, node: node, pending: pending, maxTxs: 100, tolerance: 600_000))
            #expect(pending.verified(good.id)?.map(\.id) == ordered.map(\.id))
            #expect(unseen.allSatisfy { node.mempool.transaction($0.id)?.transaction == $0 })

            // One forged signature, first, in the middle or last among the unseen: refused.
            for place in [0, 35, 69] {
                var others = try make(70)
                let tx = others[place]
                others[place] = SignedTransaction(
                    body: tx.body, signature: Array(repeating: 7, count: 64), signerCertificate: tx.signerCertificate,
                    hasher: .sha256)
                let before = node.mempool.count
                let bad = block(held + others, round: 5 + UInt64(place))
                #expect(
                    !ConsensusService<InMemoryTransport>.validate(
                        bad, node: node, pending: pending, maxTxs: 100, tolerance: 600_000), "forged at \(place)")
                #expect(node.mempool.count == before && pending.verified(bad.id) == nil)
            }
        }
    }

    /// Every replica applies the clock rule to a block's transactions against the block's
    /// timestamp, whether or not its own mempool holds them; and a mempool drops what fell out of
    /// the tolerance, so a leader does not keep proposing blocks the others refuse.
    @Test func theClockRuleHoldsAlikeForKnownTransactionsAndStaleOnesExpire() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4)
            let node = try consortium.node(in: dir, validator: 0)
            let farm = try consortium.identity(.farm)
            let now = ChainNode.nowMillis()
            let old = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(), timestamp: now - 500_000)
            try node.submit(old)
            #expect(node.mempool.contains(old.id))
            let crypto = SuiteCrypto(
                selfID: "node0", key: consortium.nodeKeys[0],
                validators: try ValidatorSet(
                    ids: consortium.genesis.validators.map(\.nodeId), keys: consortium.genesis.validatorKeys()))
            func valid(timestamp: Int64) -> Bool {
                ConsensusService<InMemoryTransport>.validate(
                    ConsensusBlock(
                        round: 4, parent: .genesis(node.genesisHash), payload: TransactionBatch.encode([old]),
                        timestamp: timestamp,
                        crypto: crypto),
                    node: node, pending: PendingBlocks(), maxTxs: 100, tolerance: 600_000)
            }
            #expect(valid(timestamp: now))
            // 700 s between the transaction and the block: refused, though this node holds it.
            #expect(!valid(timestamp: now + 200_000))

            #expect(node.mempool.expire(before: now - 600_000).isEmpty)
            #expect(node.mempool.expire(before: now - 400_000) == [old.id])
            #expect(!node.mempool.contains(old.id) && node.mempool.count == 0)
        }
    }

    /// The mempool admits about `queueSeconds` of recent commits: a chain committing 1,000 tx/s
    /// with 2 s admits 2,000 waiting transactions, refuses the next at once (`mempool_full`), never
    /// less than the floor (a block), never more than the capacity; the rate follows the last
    /// five seconds (an idle chain falls back to the floor).
    @Test func theMempoolAdmitsAboutTwoSecondsOfRecentCommits() async throws {
        let rate = CommitRate(queueSeconds: 2, floor: 500)
        var limit = 0
        // 1,000 tx/s for 6 s, in blocks of 250 every quarter second.
        for q in 0..<24 { limit = rate.record(250, nowMillis: 1_000_000 + Int64(q) * 250) }
        #expect((1_800...2_300).contains(limit))
        // Idle for 10 s: one small block then finds the floor.
        #expect(rate.record(10, nowMillis: 1_016_000) == 500)

        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4)
            let node = try consortium.node(in: dir, validator: 1)
            let farm = try consortium.identity(.farm)
            node.mempool.setAdmissionLimit(2)
            #expect(node.mempool.admissionLimit == 2)
            for _ in 0..<2 {
                try node.submit(
                    try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
            }
            let third = try farm.transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            #expect {
                try node.submit(third)
            } throws: {
                ($0 as? ChainError)?.code == .mempoolFull
            }
            node.mempool.setAdmissionLimit(1_000_000)
            #expect(node.mempool.admissionLimit == node.mempool.capacity)
            try node.submit(third)
        }
    }

    /// The admission limit refuses clients; it does not refuse what another validator gossips,
    /// which is already queued on the network (its validator admitted it and will propose it).
    /// Dropping it only moved its verification onto this node's consensus thread when a proposal
    /// brought it, and left it waiting for its own validator to lead. Gossip is bounded by the
    /// pool's capacity.
    @Test func gossipIsBoundedByTheCapacityNotByTheAdmissionLimit() async throws {
        try await withTemporaryDirectory { dir in
            let consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4)
            let node = try consortium.node(in: dir, validator: 1)
            let farm = try consortium.identity(.farm)
            func tx() throws -> SignedTransaction {
                try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            }
            node.mempool.setAdmissionLimit(2)
            for _ in 0..<2 { try node.submit(try tx()) }
            #expect(throws: ChainError.self) { try node.submit(try tx()) }
            let gossiped = try (0..<3).map { _ in try tx() }
            node.admitGossiped(gossiped)
            #expect(node.mempool.count == 5)
            #expect(gossiped.allSatisfy { node.mempool.contains($0.id) })
            // Clients are still refused: the pool counts what it holds, whoever brought it.
            #expect(throws: ChainError.self) { try node.submit(try tx()) }

            // The capacity bounds gossip.
            let pool = Mempool(capacity: 3)
            pool.setAdmissionLimit(1)
            let verified = try (0..<4).map { _ in try node.verifier.verify(try tx(), nowMillis: ChainNode.nowMillis()) }
            try pool.add(verified[0])
            #expect(throws: ChainError.self) { try pool.add(verified[1]) }
            #expect(pool.hasRoomForGossip)
            try pool.addGossiped(verified[1])
            try pool.addGossiped(verified[2])
            #expect(!pool.hasRoomForGossip)
            #expect {
                try pool.addGossiped(verified[3])
            } throws: {
                ($0 as? ChainError)?.code == .mempoolFull
            }
            #expect(pool.count == 3)
        }
    }

    @Test func aLeaderFillsBlocksUpToTheByteLimitExactly() {
        let txs = (0..<10).map { i in
            SignedTransaction(
                body: Array(repeating: UInt8(i), count: 100), signature: Array(repeating: 1, count: 64),
                signerCertificate: [0x30], hasher: .sha256
            )
        }
        let perTx = 12 + 100 + 64 + 1
        for n in [0, 1, 3, 10] {
            let payload = ConsensusService<InMemoryTransport>.payload(txs, maxBytes: 5 + perTx * n)
            #expect(payload.count == 5 + perTx * n)
            #expect((try? TransactionBatch.decode(payload, maxCount: 100, hasher: .sha256))?.count == n)
        }
        #expect(ConsensusService<InMemoryTransport>.payload(txs, maxBytes: 5 + perTx * 3 - 1).count == 5 + perTx * 2)
    }
}
