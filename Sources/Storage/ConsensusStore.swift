import ChainCore
import Foundation
import GRDB

/// What consensus keeps on disk, in the chain's database: the replica's safety data, the
/// consensus blocks not yet committed (a block may be certified while every replica restarts,
/// and then only stored copies can complete it), and the recent committed ones, which peers fetch.
public final class ConsensusStore: Sendable {
    let pool: DatabasePool
    /// How many heights of committed consensus blocks are kept below the last committed one.
    let retainedCommitted: Int64

    init(pool: DatabasePool, retainedCommitted: Int) {
        self.pool = pool
        self.retainedCommitted = Int64(max(1, retainedCommitted))
    }

    /// Committed consensus blocks held (at most about `retainedCommitted` heights of them).
    public func committedBlockCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM consensus_blocks WHERE committed = 1") ?? 0 }
    }

    /// Stores the consensus safety data (synchronously durable when `synchronousFull`).
    public func saveSafety(_ bytes: [UInt8]) throws { try save(blocks: [], safety: bytes) }

    /// The stored consensus safety data.
    public func safety() throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM consensus_state WHERE key = 'safety'").map { Array($0) }
        }
    }

    /// The consensus block of the last committed chain block.
    ///
    /// The state row holds the block's id (32 bytes) and the block is read from `consensus_blocks`,
    /// where the last committed one is always kept; versions before 2026-12 stored the whole block
    /// there (rewriting every committed block's transactions a second time), which is still read.
    public func committedBlock() throws -> [UInt8]? {
        try pool.read { db in
            guard let value = try Data.fetchOne(db, sql: "SELECT value FROM consensus_state WHERE key = 'committed'") else {
                return nil
            }
            guard value.count == 32 else { return Array(value) }
            guard let data = try Data.fetchOne(db, sql: "SELECT data FROM consensus_blocks WHERE id = ?", arguments: [value])
            else {
                throw ChainError(.storageCorrupt, "the last committed consensus block \(Hex.encode(Array(value))) is not stored")
            }
            return Array(data)
        }
    }

    /// Keeps a valid, not yet committed consensus block.
    public func storeBlock(id: Hash256, height: UInt64, bytes: [UInt8]) throws {
        try save(blocks: [(id, height, bytes)], safety: nil)
    }

    /// Stores consensus blocks and the safety data in one SQLite transaction (one commit, one
    /// `fsync`): a follower's vote needs both the proposal's block and its new safety data durable
    /// before it leaves, and they were two transactions.
    public func save(blocks: [(id: Hash256, height: UInt64, bytes: [UInt8])], safety: [UInt8]?) throws {
        guard !blocks.isEmpty || safety != nil else { return }
        let rows = try blocks.map { (Data($0.id.bytes), try BlockStore.column($0.height), Data($0.bytes)) }
        try pool.write { db in
            for (id, height, bytes) in rows {
                try db.cachedStatement(
                    sql: "INSERT OR IGNORE INTO consensus_blocks (id, height, committed, data) VALUES (?, ?, 0, ?)"
                ).execute(arguments: [id, height, bytes])
            }
            if let safety {
                try db.cachedStatement(
                    sql:
                        "INSERT INTO consensus_state (key, value) VALUES ('safety', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
                ).execute(arguments: [Data(safety)])
            }
        }
    }

    /// The stored consensus blocks not yet committed, lowest first.
    public func pendingBlocks() throws -> [[UInt8]] {
        try pool.read { db in
            try Data.fetchAll(db, sql: "SELECT data FROM consensus_blocks WHERE committed = 0 ORDER BY height").map { Array($0) }
        }
    }

    /// A stored consensus block (committed or not) by id.
    public func block(id: Hash256) throws -> [UInt8]? {
        try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT data FROM consensus_blocks WHERE id = ?", arguments: [Data(id.bytes)]).map {
                Array($0)
            }
        }
    }

    /// Records a committed consensus block that produced no chain block (it held no new
    /// transactions), and in the same transaction finality signatures of blocks already stored
    /// (`BlockStore.addSignatures`).
    public func recordCommitted(
        id: Hash256, height: UInt64, bytes: [UInt8], finality: [(height: UInt64, signature: ValidatorSignature)] = []
    ) throws {
        try pool.write { db in
            try self.markCommitted(db, id: id, height: height, bytes: bytes)
            try BlockStore.addSignatures(finality, in: db)
        }
    }

    func markCommitted(_ db: Database, id: Hash256, height: UInt64, bytes: [UInt8]) throws {
        let height = try BlockStore.column(height)
        // Statements cached per connection: this runs with every commit.
        func run(_ sql: String, _ arguments: StatementArguments) throws {
            try db.cachedStatement(sql: sql).execute(arguments: arguments)
        }
        // A block this node stored before its commit is only marked (its bytes are not bound again).
        try run("UPDATE consensus_blocks SET committed = 1 WHERE id = ?", [Data(id.bytes)])
        if db.changesCount == 0 {
            try run(
                "INSERT INTO consensus_blocks (id, height, committed, data) VALUES (?, ?, 1, ?)",
                [Data(id.bytes), height, Data(bytes)])
        }
        try run("DELETE FROM consensus_blocks WHERE committed = 0 AND height <= ?", [height])
        // Committed consensus blocks are kept for a while to answer peers' fetches, then pruned
        // (an idle chain commits an empty consensus block per second).
        try run("DELETE FROM consensus_blocks WHERE committed = 1 AND height < ?", [height - retainedCommitted])
        try run(
            "INSERT INTO consensus_state (key, value) VALUES ('committed', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [Data(id.bytes)])
    }
}
