import ChainCore
import ChainTesting
import Foundation
import GRDB
import Testing

@testable import Storage

/// The replay check's memory (`RecentCommits`): it never answers "not committed" for a committed
/// transaction — not for one committed before the store was opened, nor one a dropped generation
/// held, nor one a snapshot carried — and it answers most fresh transactions without a read.
@Suite struct RecentCommitsTests {
    func id(_ i: Int) -> Hash256 { Hash256.sha256(Array("id \(i)".utf8)) }

    @Test func theFilterNeverMissesAnIdItHoldsAndRarelySaysMaybeOfOthers() {
        var recent = RecentCommits(floor: .min, generation: 50_000)
        for i in 0..<50_000 { recent.insert(id(i), timestamp: 1_000) }
        #expect((0..<50_000).allSatisfy { recent.mayBeCommitted(id($0), timestamp: 1_000) })
        let maybes = (50_000..<100_000).filter { recent.mayBeCommitted(id($0), timestamp: 1_000) }.count
        // Ten bits and seven probes an id: about 0.8 % when full.
        #expect(maybes < 1_000)
    }

    @Test func aTimestampAtOrBelowTheFloorIsLeftToTheDatabase() {
        let recent = RecentCommits(floor: 5_000)
        #expect(recent.mayBeCommitted(id(1), timestamp: 5_000))
        #expect(recent.mayBeCommitted(id(1), timestamp: .min))
        #expect(!recent.mayBeCommitted(id(1), timestamp: 5_001))
        // Unknown: everything is asked.
        #expect(RecentCommits(floor: .max).mayBeCommitted(id(1), timestamp: .max))
    }

    @Test func aFullGenerationReplacesTheOlderOneWhoseTimestampsRaiseTheFloor() {
        var recent = RecentCommits(floor: .min, generation: 3)
        for (i, t) in [(1, 10), (2, 30), (3, 20)] { recent.insert(id(i), timestamp: Int64(t)) }
        for (i, t) in [(4, 40), (5, 50), (6, 60)] { recent.insert(id(i), timestamp: Int64(t)) }
        #expect(recent.floor == .min)
        // The seventh starts a third generation: the first (highest timestamp 30) is dropped.
        recent.insert(id(7), timestamp: 70)
        #expect(recent.floor == 30)
        #expect(recent.mayBeCommitted(id(2), timestamp: 30))  // dropped: the database says
        #expect(recent.mayBeCommitted(id(4), timestamp: 40) && recent.mayBeCommitted(id(7), timestamp: 70))
        #expect(!recent.mayBeCommitted(id(99), timestamp: 31))
        #expect(recent.mayBeCommitted(id(99), timestamp: 29))
    }

    static func floor(_ store: BlockStore) -> Int64 { store.replayFloor }

    static func check(_ store: BlockStore, _ txs: [SignedTransaction]) throws -> Set<Hash256> {
        try store.committedIDs(among: txs.map { ($0.id, try TransactionBody.parse($0.body).timestamp) })
    }

    @Test func committedTransactionsAreFoundBeforeAndAfterReopeningAndAFailedCommitHidesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            #expect(Self.floor(try BlockStore(path: dir.appendingPathComponent("empty.sqlite").path, hasher: .sha256)) == .min)
            var builder = ChainBuilder()
            let committed = try builder.write(path, blocks: [(3, 1_000), (0, 2_000), (5, 1_500)]).flatMap(\.block.transactions)
            do {
                let store = try BlockStore(path: path, hasher: .sha256)
                #expect(try Self.check(store, committed) == Set(committed.map(\.id)))
                // Never committed: a transaction of a block that does not extend the tip.
                var stray = builder
                _ = stray.next(txCount: 1, timestamp: 9_000)
                let refused = stray.next(txCount: 1, timestamp: 9_000)
                #expect(throws: (any Error).self) { try store.commit(refused) }
                #expect(try Self.check(store, refused.block.transactions).isEmpty)
                try store.close()
            }
            let store = try BlockStore(path: path, hasher: .sha256)
            // Every transaction committed before opening has a timestamp at most the floor.
            #expect(Self.floor(store) == 1_504)
            #expect(try Self.check(store, committed) == Set(committed.map(\.id)))
            let fresh = builder.next(txCount: 2, timestamp: 3_000)
            #expect(try Self.check(store, fresh.block.transactions).isEmpty)
            try store.commit(fresh)
            #expect(try Self.check(store, fresh.block.transactions + committed).count == committed.count + 2)
        }
    }

    @Test func theFloorIsReadFromTheBodiesOfBlocksAVersionWithoutItCommittedOrUnknownWhenPruned() async throws {
        try await withTemporaryDirectory { dir in
            let current = dir.appendingPathComponent("current.sqlite").path
            var builder = ChainBuilder()
            let committed = try builder.write(current, blocks: [(2, 4_000), (2, 7_000), (2, 5_000)]).flatMap(\.block.transactions)
            /// A copy of the chain at the earlier schema, its `meta` changed by `sql`.
            func copy(_ name: String, _ sql: String) throws -> String {
                let path = dir.appendingPathComponent(name).path
                try SchemaMigrationTests.copyAtEarlierSchema(current, to: path)
                try DatabaseQueue(path: path).write { db in try db.execute(sql: sql) }
                return path
            }
            // Written by a version that kept no floor: every body is read once.
            let earlier = try BlockStore(
                path: try copy("earlier.sqlite", "DELETE FROM meta WHERE key LIKE 'max_tx_timestamp%'"), hasher: .sha256)
            #expect(Self.floor(earlier) == 7_001)
            #expect(try Self.check(earlier, committed) == Set(committed.map(\.id)))
            try earlier.close()

            // Blocks 2 and 3 committed by an earlier version after a downgrade (the floor kept is
            // block 1's): their bodies are read.
            let gap = try BlockStore(
                path: try copy(
                    "gap.sqlite",
                    "UPDATE meta SET value = 4001 WHERE key = 'max_tx_timestamp'; UPDATE meta SET value = 1 WHERE key = 'max_tx_timestamp_height'"
                ), hasher: .sha256)
            #expect(Self.floor(gap) == 7_001)
            #expect(try Self.check(gap, committed) == Set(committed.map(\.id)))
            try gap.close()

            // Pruned bodies hide timestamps: no floor is known, every check reads the database.
            let prunedPath = try copy(
                "pruned.sqlite",
                "DELETE FROM meta WHERE key LIKE 'max_tx_timestamp%'; UPDATE txs SET body = X'', signature = X'' WHERE height = 1"
            )
            let pruned = try BlockStore(path: prunedPath, hasher: .sha256)
            #expect(Self.floor(pruned) == .max)
            #expect(try pruned.committedIDs(among: committed.map { ($0.id, Int64(8_000)) }) == Set(committed.map(\.id)))
            try pruned.commit(builder.next(txCount: 1, timestamp: 9_000))
            try pruned.close()
            #expect(Self.floor(try BlockStore(path: prunedPath, hasher: .sha256)) == .max)
        }
    }
}
