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
    /// How many frames a passive checkpoint on another connection finds in the log, and how many
    /// of them are already in the database file.
    static func logFrames(_ path: String) throws -> (log: Int, checkpointed: Int) {
        let probe = try DatabaseQueue(path: path)
        defer { try? probe.close() }
        let r = try probe.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        return (r.walFrameCount, r.checkpointedFrameCount)
    }

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
            // Everything the commits logged is in the database file.
            let frames = try Self.logFrames(path)
            #expect(frames.log > 1_000)
            #expect(frames.checkpointed == frames.log)
            #expect(try store.tip()?.height == 60)
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
                store.checkpointer.committed()
                try await Task.sleep(for: .milliseconds(400))
                #expect(store.checkpointer.runs == runs)
            }
            let reopened = try BlockStore(path: path, hasher: .sha256)
            defer { try? reopened.close() }
            #expect(try reopened.tip() == builder.tip)
        }
    }
}
