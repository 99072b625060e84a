import ChainCore
import ChainTesting
import Foundation
import GRDB
import Testing

@testable import Storage

/// The write-ahead log is copied back into the database by the store's checkpointer, on a
/// connection and thread of its own, not by the connection committing blocks (on a validator,
/// the consensus loop).
@Suite struct WALCheckpointerTests {
    @Test func theWriterLeavesCheckpointsToTheCheckpointer() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            let store = try BlockStore(path: path, hasher: .sha256)
            defer { try? store.close() }
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            // SQLite's default is 1,000 pages: the committing connection would copy the log at
            // the commit that crosses it. Its threshold is now only the bound on the log.
            let threshold = try await store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
            #expect(threshold == WALCheckpointer.safetyPages)
            var builder = ChainBuilder()
            // Well past 1,000 pages of log (about 4 MiB): each block writes ~200 KiB.
            for _ in 0..<60 { try store.commit(builder.next(txCount: 400)) }
            // The checkpointer follows the commits within its interval; the deadline is only a
            // guard against hanging (nothing here measures time).
            let deadline = ContinuousClock.now + .seconds(60)
            while store.checkpointer.runs == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(store.checkpointer.runs >= 1)
            // And they copy the log: a connection opened before the file became a WAL database
            // (the checkpointer's, on a new path) had checkpoints that silently did nothing, and
            // the log grew to the writer's 64 MiB bound, copied then on the committing thread.
            while store.checkpointer.framesCopied == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(store.checkpointer.framesCopied > 0)
            #expect(try store.tip()?.height == 60)
        }
    }

    /// An idle chain commits no block but still writes consensus data every round: those writes
    /// are checkpointed too, or the log would grow to the writer's bound.
    @Test func consensusWritesAloneAreCheckpointed() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            let store = try BlockStore(path: path, hasher: .sha256)
            defer { try? store.close() }
            let before = store.checkpointer.runs
            let payload = [UInt8](repeating: 7, count: 40_000)
            for h in 1...150 {
                try store.consensus.storeBlock(
                    id: Hash256.sha256([UInt8(h % 256), UInt8(h / 256)]), height: UInt64(h), bytes: payload)
                try store.consensus.saveSafety([UInt8(h % 256)])
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while store.checkpointer.runs == before, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(store.checkpointer.runs > before)
        }
    }

    /// Every write transaction on the store's database is followed by a checkpoint, whichever
    /// code wrote it (pruning bodies, an epoch signature, genesis, a snapshot load, a write
    /// added later): the checkpointer learns of commits from SQLite's connection, not from
    /// calls each write path must remember.
    @Test func anyWriteOnTheDatabaseIsCheckpointed() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            let store = try BlockStore(path: path, hasher: .sha256)
            defer { try? store.close() }
            // Let whatever opening the store wrote be checkpointed first.
            try await Task.sleep(for: .milliseconds(400))
            let before = store.checkpointer.runs
            try await store.pool.write { db in
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('wal-test', 1)")
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while store.checkpointer.runs == before, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(store.checkpointer.runs > before)
            // A read commits nothing and schedules nothing.
            try await Task.sleep(for: .milliseconds(400))
            let afterWrite = store.checkpointer.runs
            _ = try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM meta") }
            try await Task.sleep(for: .milliseconds(400))
            #expect(store.checkpointer.runs == afterWrite)
        }
    }

    @Test func aClosedStoreSchedulesNoCheckpointAndReopensWithEverything() async throws {
        try await withTemporaryDirectory { dir in
            let path = dir.appendingPathComponent("chain.sqlite").path
            var builder = ChainBuilder()
            do {
                let store = try BlockStore(path: path, hasher: .sha256)
                try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
                for _ in 0..<5 { try store.commit(builder.next(txCount: 100)) }
                // A checkpoint scheduled by the last commits either ran or is cancelled by closing,
                // which waits for one under way; none is scheduled afterwards.
                try store.close()
                let runs = store.checkpointer.runs
                store.checkpointer.wrote()
                try await Task.sleep(for: .milliseconds(400))
                #expect(store.checkpointer.runs == runs)
            }
            let reopened = try BlockStore(path: path, hasher: .sha256)
            defer { try? reopened.close() }
            #expect(try reopened.tip() == builder.tip)
        }
    }
}
