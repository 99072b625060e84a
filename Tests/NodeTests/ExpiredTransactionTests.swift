import ChainCore
import ChainTesting
import Consensus
import Execution
import Foundation
import Identity
import Storage
import Testing

@testable import Node

/// How long the test transactions have left inside the tolerance when signed (ms): far more than
/// a loaded machine ever stalls between signing and admission.
private let toleranceLeft: Int64 = 300_000

/// A transaction the mempool drops for age is reported expired (`tx_expired`), never unknown: its
/// waiters are told at once, the id is remembered (bounded), a transaction an uncommitted block
/// holds is kept, and one that committed is never reported expired. The expiry is driven with an
/// explicit clock reading (`expireStale(nowMillis:)`), never by waiting for the wall clock.
@Suite struct ExpiredTransactionTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1", "org2", "org3"], validators: 4) }

    func tx(_ signer: SigningIdentity, timestamp: Int64) throws -> SignedTransaction {
        try signer.transaction(
            chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs(), timestamp: timestamp)
    }

    @Test func aTransactionDroppedForAgeIsExpiredAndItsWaiterIsToldAtOnce() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, validator: 0)
            let farm = try consortium.identity(.farm)
            let tolerance = node.config.timestampToleranceMs
            let now = ChainNode.nowMillis()
            // Signed so that it leaves the tolerance five minutes from now: admitted.
            let tx = try tx(farm, timestamp: now - tolerance + toleranceLeft)
            let admission = Admission(node: node, upstream: nil)
            let timeout = Duration.seconds(120)
            // Registered before it is submitted (`submitAndWait`), as `POST /v1/txs?wait=commit` does.
            let waiter = Task { try await admission.submitAndWait(tx, timeout: timeout) }
            #expect(try await pollUntil { node.mempool.contains(tx.id) })
            let started = ContinuousClock.now

            // Still inside the tolerance, or less than the margin past it: waiting, not expired.
            #expect(node.expireStale(nowMillis: now + toleranceLeft).isEmpty)
            #expect(node.expireStale(nowMillis: now + toleranceLeft + 2_000).isEmpty)
            #expect(node.mempool.contains(tx.id) && !node.mempool.isExpired(tx.id))
            // Past it: dropped, remembered as expired, and the waiter answers at once.
            #expect(node.expireStale(nowMillis: now + toleranceLeft + 2_001) == [tx.id])
            #expect(!node.mempool.contains(tx.id) && node.mempool.isExpired(tx.id))
            await #expect {
                _ = try await waiter.value
            } throws: {
                ($0 as? ChainError)?.code == .txExpired
            }
            #expect(ContinuousClock.now - started < timeout)
            // The same bytes again (the real clock still finds them inside the tolerance): not
            // admitted a second time, so "expired" stays true.
            #expect {
                try node.submit(tx)
            } throws: {
                ($0 as? ChainError)?.code == .txExpired
            }
            // A waiter registered after the expiry waits as for any id (the route looks first).
            let late = node.notifier.register(tx.id)
            #expect(try await node.notifier.wait(late, timeout: .milliseconds(20)) == nil)
        }
    }

    /// A transaction in an uncommitted block this node validated stays (that block may commit it);
    /// a committed one is never reported expired; a waiter of a kept one is not woken.
    @Test func aTransactionHeldByAnUncommittedBlockIsKeptAndACommittedOneIsNeverExpired() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, validator: 1)
            let farm = try consortium.identity(.farm)
            let tolerance = node.config.timestampToleranceMs
            let now = ChainNode.nowMillis()
            let old = now - tolerance + toleranceLeft
            let later = now + toleranceLeft + 2_001

            // Committed while it was fresh.
            let committed = try tx(farm, timestamp: old)
            try node.submit(committed)
            #expect(try node.produceBlock() == 1)

            // Held by a block the leader proposed and this node validated (not committed yet).
            let held = try tx(farm, timestamp: old)
            try node.submit(held)
            let crypto = SuiteCrypto(
                selfID: "node0", key: consortium.nodeKeys[0],
                validators: try ValidatorSet(
                    ids: consortium.genesis.validators.map(\.nodeId), keys: consortium.genesis.validatorKeys()))
            let block = ConsensusBlock(
                round: 4, parent: .genesis(node.genesisHash), payload: TransactionBatch.encode([held]), timestamp: now,
                crypto: crypto)
            let pending = PendingBlocks()
            #expect(
                ConsensusService<InMemoryTransport>.validate(
                    block, node: node, pending: pending, maxTxs: 100, tolerance: tolerance))
            let heldTicket = node.notifier.register(held.id)

            // Waiting in the mempool only.
            let stale = try tx(farm, timestamp: old)
            try node.submit(stale)

            // A leader no longer proposes a transaction half a second from leaving the tolerance
            // (its block could be refused), though it is not yet reported expired.
            let proposable = { (at: Int64) in
                ConsensusService<InMemoryTransport>.candidates(
                    node: node, pending: PendingBlocks(), parent: .zero, maxTxs: 100, nowMillis: at
                ).map(\.id)
            }
            #expect(proposable(now) == [held.id, stale.id])
            #expect(proposable(now + toleranceLeft - 500) == [held.id, stale.id])
            #expect(proposable(now + toleranceLeft - 499).isEmpty)
            #expect(
                ConsensusService<InMemoryTransport>.expireStale(
                    node: node, pending: pending, nowMillis: now + toleranceLeft - 499, committedTime: .max
                ).isEmpty)
            // A validator whose chain has not committed past the deadline (cut off from the
            // others) reports nothing, however late its clock says it is.
            #expect(
                ConsensusService<InMemoryTransport>.expireStale(
                    node: node, pending: pending, nowMillis: later + 60_000, committedTime: now + toleranceLeft
                ).isEmpty)
            #expect(node.mempool.contains(stale.id) && !node.mempool.isExpired(stale.id))

            let expired = ConsensusService<InMemoryTransport>.expireStale(
                node: node, pending: pending, nowMillis: later + 60_000, committedTime: later)
            #expect(expired == [stale.id])
            #expect(node.mempool.contains(held.id) && !node.mempool.isExpired(held.id))
            #expect(!node.mempool.isExpired(committed.id))
            #expect(try await node.notifier.wait(heldTicket, timeout: .milliseconds(20)) == nil)

            // The held one's block commits after all: committed, and a later sweep leaves it alone.
            let heldVerified = try #require(node.mempool.transaction(held.id))
            let ticket = node.notifier.register(held.id)
            #expect(try node.commitBlock([heldVerified], proposer: "node0", timestamp: now, consensusBlock: nil) != nil)
            #expect(try await node.notifier.wait(ticket, timeout: .seconds(5))?.height == 2)
            #expect(node.expireStale(nowMillis: later + 10_000).isEmpty)
            #expect(!node.mempool.isExpired(held.id))
            #expect(try node.store.transaction(held.id) != nil)
        }
    }

    /// The ids dropped for age are remembered in a FIFO of at most the pool's capacity: the
    /// capacity + 1st forgets the first, whether they expire together or one sweep at a time.
    @Test func theExpiredIdsAreBoundedByTheCapacityOldestForgottenFirst() async throws {
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, validator: 2)
            let farm = try consortium.identity(.farm)
            let now = ChainNode.nowMillis()
            let txs = try (0..<7).map { i in
                try node.verifier.verify(try tx(farm, timestamp: now - Int64(10 - i)), nowMillis: now)
            }
            let pool = Mempool(capacity: 3)
            for t in txs[0..<3] { try pool.add(t) }
            #expect(pool.expire(before: now) == txs[0..<3].map(\.id))
            #expect(pool.count == 0 && txs[0..<3].allSatisfy { pool.isExpired($0.id) })
            // Capacity + 1 drops: the first is forgotten; then each sweep forgets the next oldest.
            for (k, t) in txs[3..<7].enumerated() {
                try pool.add(t)
                #expect(pool.expire(before: now) == [t.id])
                #expect(!pool.isExpired(txs[k].id) && pool.isExpired(t.id))
            }
            #expect(txs[4..<7].allSatisfy { pool.isExpired($0.id) })
            #expect(txs[0..<4].allSatisfy { !pool.isExpired($0.id) })
            // Several at once past the capacity: only the last `capacity` of them are remembered.
            let more = try (0..<5).map { _ in try node.verifier.verify(try tx(farm, timestamp: now - 1), nowMillis: now) }
            for t in more[0..<3] { try pool.add(t) }
            #expect(pool.adopt(Array(more[3...])) == 2)
            #expect(pool.expire(before: now) == more.map(\.id))
            #expect(more[0..<2].allSatisfy { !pool.isExpired($0.id) } && more[2...].allSatisfy { pool.isExpired($0.id) })
            #expect(txs.allSatisfy { !pool.isExpired($0.id) })
            // A forgotten id is no longer refused as expired (its timestamp refuses it at admission).
            try pool.add(txs[0])
            #expect(pool.contains(txs[0].id))
        }
    }
}

/// `CommitNotifier.expire`: waits end at once with `tx_expired`, whether the expiry came before or
/// during the wait, for every waiter of the id; commits and expiries do not undo each other.
@Suite struct CommitNotifierExpiryTests {
    static let a = Hash256.sha256(Array("a".utf8))
    static let b = Hash256.sha256(Array("b".utf8))
    static let outcome = CommitOutcome(height: 3, index: 1, error: nil)

    func isExpired(_ notifier: CommitNotifier, _ ticket: CommitNotifier.Ticket) async -> Bool {
        do {
            _ = try await notifier.wait(ticket, timeout: .seconds(60))
            return false
        } catch {
            return error.code == .txExpired
        }
    }

    @Test func anExpiryEndsEveryWaitOfItsIdAtOnce() async throws {
        let notifier = CommitNotifier()
        // Expired between registration and the wait: the wait ends at once.
        let early = notifier.register(Self.a)
        notifier.expire([Self.a])
        #expect(await isExpired(notifier, early))

        // Two waiters already waiting, and one of another id.
        let t1 = notifier.register(Self.b)
        let t2 = notifier.register(Self.b)
        let other = notifier.register(Self.a)
        async let w1 = isExpired(notifier, t1)
        async let w2 = isExpired(notifier, t2)
        try await Task.sleep(for: .milliseconds(20))
        notifier.expire([Self.b])
        let (r1, r2) = await (w1, w2)
        #expect(r1 && r2)
        #expect(try await notifier.wait(other, timeout: .milliseconds(10)) == nil)
    }

    @Test func theFirstEndingWinsAndCancellationStillReleases() async throws {
        let notifier = CommitNotifier()
        let committed = notifier.register(Self.a)
        notifier.notify([(Self.a, Self.outcome)])
        notifier.expire([Self.a])
        #expect(try await notifier.wait(committed, timeout: .seconds(60)) == Self.outcome)

        let expired = notifier.register(Self.b)
        notifier.expire([Self.b])
        notifier.notify([(Self.b, Self.outcome)])
        #expect(await isExpired(notifier, expired))

        // Cancelled waits and timeouts answer nil as before; an expiry after them finds nothing.
        let cancelled = notifier.register(Self.a)
        let task = Task { try await notifier.wait(cancelled, timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(10))
        task.cancel()
        #expect(try await task.value == nil)
        let timedOut = notifier.register(Self.a)
        #expect(try await notifier.wait(timedOut, timeout: .milliseconds(10)) == nil)
        notifier.expire([Self.a])
        let dropped = notifier.register(Self.b)
        notifier.cancel(dropped)
        notifier.expire([Self.b])
    }
}
