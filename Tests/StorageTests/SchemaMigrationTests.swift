import ChainCore
import ChainTesting
import Foundation
import GRDB
import Testing

@testable import Storage

/// A chain database of the schema before `v5-append-ordered-txs-and-state` opens with every
/// block, transaction and state entry intact, and its `txs` and `state` rebuilt as rowid tables.
@Suite struct SchemaMigrationTests {
    static func tableSQL(_ path: String, _ name: String) throws -> String {
        try DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [name])
        } ?? ""
    }

    /// Copies the chain database `current`, row by row, into a new database at `earlier` migrated
    /// only up to v4 (the tables' layout of earlier versions).
    static func copyAtEarlierSchema(_ current: String, to earlier: String) throws {
        let queue = try DatabaseQueue(path: earlier)
        try BlockStore.migrator.migrate(queue, upTo: "v4-snapshot-committed-ids")
        try queue.inDatabase { db in
            try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [current])
            for table in ["meta", "blocks", "certs", "txs", "state", "events"] {
                try db.execute(sql: "INSERT INTO main.\(table) SELECT * FROM src.\(table)")
            }
            try db.execute(sql: "DETACH DATABASE src")
        }
        try queue.close()
    }

    @Test func aDatabaseOfTheEarlierSchemaIsRebuiltWithEverythingInIt() async throws {
        try await withTemporaryDirectory { dir in
            // A chain written by this version, then copied row by row into a database migrated
            // only up to v4 (the tables' layout of earlier versions).
            let current = dir.appendingPathComponent("current.sqlite").path
            var builder = ChainBuilder()
            var commits: [BlockCommit] = []
            do {
                let store = try BlockStore(path: current, hasher: .sha256)
                try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
                for n in [3, 0, 5, 7, 2] {
                    let c = builder.next(txCount: n)
                    try store.commit(c)
                    commits.append(c)
                }
                try store.close()
            }
            let earlier = dir.appendingPathComponent("earlier.sqlite").path
            try Self.copyAtEarlierSchema(current, to: earlier)
            #expect(try Self.tableSQL(earlier, "txs").contains("WITHOUT ROWID"))
            #expect(try Self.tableSQL(earlier, "state").contains("WITHOUT ROWID"))

            let store = try BlockStore(path: earlier, hasher: .sha256)
            try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            try store.close()
            #expect(try !Self.tableSQL(earlier, "txs").contains("WITHOUT ROWID"))
            #expect(try !Self.tableSQL(earlier, "state").contains("WITHOUT ROWID"))

            let migrated = try BlockStore(path: earlier, hasher: .sha256)
            try migrated.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
            #expect(try migrated.tip() == builder.tip)
            #expect(try migrated.transactionCount() == 17)
            for c in commits {
                let block = try #require(try migrated.fullBlock(at: c.block.header.height))
                #expect(block.transactions == c.block.transactions)
                for t in c.transactions { #expect(try migrated.transaction(t.transaction.id) == t) }
                #expect(
                    try migrated.committedIDs(among: c.block.transactions.map(\.id)) == Set(c.block.transactions.map(\.id)))
            }
            #expect(
                try migrated.scan(prefix: "", limit: 100)
                    == (try BlockStore(path: current, hasher: .sha256).scan(prefix: "", limit: 100)))
            // Still unique: a transaction committed twice or a second row for a key is refused,
            // and the state's upsert updates in place.
            #expect(throws: (any Error).self) {
                try migrated.commit(builder.next(txCount: 1, duplicateOf: commits[3].block.transactions[0]))
            }
            var next = builder
            next.tip = try migrated.tip()
            let c = next.next(txCount: 1)
            try migrated.commit(c)
            #expect(try migrated.read("evidence/h6") == Array("v6".utf8))
            #expect(try migrated.read("evidence/h5") == nil)
            // A fresh database has the new layout from the start.
            let fresh = dir.appendingPathComponent("fresh.sqlite").path
            _ = try BlockStore(path: fresh, hasher: .sha256)
            #expect(try !Self.tableSQL(fresh, "state").contains("WITHOUT ROWID"))
        }
    }
}

/// A backup copies a database as the node has it: its height is read without bringing the copy
/// up to this version's schema (a backup of a 1 M-transaction node of the earlier schema spent
/// most of its time migrating the copy), and file digests are computed a slice at a time.
@Suite struct BackupCopyTests {
    @Test func theCopyOfAnEarlierSchemaKeepsItAndItsHeightIsRead() async throws {
        try await withTemporaryDirectory { dir in
            let current = dir.appendingPathComponent("current.sqlite").path
            var builder = ChainBuilder()
            do {
                let store = try BlockStore(path: current, hasher: .sha256)
                try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
                for n in [2, 0, 3] { try store.commit(builder.next(txCount: n)) }
                try store.close()
            }
            let earlier = dir.appendingPathComponent("earlier.sqlite").path
            try SchemaMigrationTests.copyAtEarlierSchema(current, to: earlier)
            func migrations(_ path: String) throws -> [String] {
                try DatabaseQueue(path: path).read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations") }
            }
            let copy = dir.appendingPathComponent("copy.sqlite").path
            try SQLiteSnapshot.copy(from: earlier, to: copy)
            #expect(try SQLiteSnapshot.tipHeight(copy) == 3)
            #expect(try migrations(copy) == (try migrations(earlier)))
            #expect(try migrations(copy).last == "v4-snapshot-committed-ids")
            #expect(try SchemaMigrationTests.tableSQL(copy, "txs").contains("WITHOUT ROWID"))
            let empty = dir.appendingPathComponent("empty.sqlite").path
            try BlockStore(path: empty, hasher: .sha256).close()
            #expect(try SQLiteSnapshot.tipHeight(empty) == 0)
        }
    }

    @Test func aFilesDigestReadInSlicesIsTheDigestOfItsBytes() async throws {
        try await withTemporaryDirectory { dir in
            for size in [0, 1, (1 << 20) - 1, 1 << 20, (5 << 19) + 7] {
                let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
                let url = dir.appendingPathComponent("f\(size)")
                try Data(bytes).write(to: url)
                #expect(try Hash256.sha256(fileAt: url) == Hash256.sha256(bytes), "\(size) bytes")
            }
            #expect(throws: (any Error).self) { try Hash256.sha256(fileAt: dir.appendingPathComponent("missing")) }
        }
    }
}
