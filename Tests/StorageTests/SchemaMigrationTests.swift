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
            do {
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
