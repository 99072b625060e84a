import ChainCore
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The chain on disk: blocks, transactions, results, contract state and indexes in one SQLite
/// database (WAL mode). Each block is committed in one SQLite transaction, so a crash at any
/// instant leaves either the whole block or none of it.
public final class BlockStore: Sendable {
    let pool: DatabasePool
    /// Copies the log into the database off the committing thread.
    let checkpointer: WALCheckpointer
    /// The replay check's fast "not committed" (`RecentCommits`).
    let recentCommits: Mutex<RecentCommits>
    /// Path of the database file.
    public let path: String
    /// Consensus safety data and consensus blocks, in the same database (a chain block and the
    /// consensus block it comes from commit in one SQLite transaction).
    public let consensus: ConsensusStore
    /// The chain's hash function: transaction ids and block ids of what is read back.
    public let hasher: ChainHasher

    /// A connection that waits up to 10 s for a lock held by another: every connection Storage
    /// opens to a chain database (the store's pool, its checkpointer, snapshot copies and installs).
    static var patientConfiguration: Configuration {
        var config = Configuration()
        config.busyMode = .timeout(10)
        return config
    }

    /// Opens (creating if needed) the database at `path` of a chain hashing with `hasher`.
    /// - Parameters:
    ///   - synchronousFull: fsync at every commit (survives power loss, not only process death).
    ///   - retainedConsensusBlocks: heights of committed consensus blocks kept for peers' fetches.
    ///   - mmapBytes: how much of the file SQLite reads through a memory map (0: none, every page
    ///     read is a `pread`). Mapped pages are file-backed (the kernel reclaims them under
    ///     pressure) but count in the process's resident set.
    public init(
        path: String, hasher: ChainHasher, synchronousFull: Bool = true, retainedConsensusBlocks: Int = 10_000,
        mmapBytes: Int = 0
    ) throws {
        self.path = path
        self.hasher = hasher
        // The pool's writer reports its commits to the checkpointer from the moment it opens
        // (the checkpointer opens its own connection at its first checkpoint).
        let checkpointer = WALCheckpointer(path: path)
        var config = Self.patientConfiguration
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronousFull ? "FULL" : "NORMAL")")
            // Optionally reads through a memory map instead of a pread system call per page
            // (replay checks and state reads under load were about 6 % of a validator's time in
            // pread), and a larger page cache for the writer's B-tree pages (16 MiB instead of 2).
            try db.execute(sql: "PRAGMA mmap_size = \(max(0, mmapBytes))")
            try db.execute(sql: "PRAGMA cache_size = -16384")
            // The checkpoints are `checkpointer`'s; the writer's own only bounds the log.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.safetyPages)")
            checkpointer.observe(db)
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw ChainError(.storageUnavailable, "cannot open database \(path): \(error)")
        }
        self.checkpointer = checkpointer
        consensus = ConsensusStore(pool: pool, retainedCommitted: retainedConsensusBlocks)
        try Self.migrator.migrate(pool)
        let floor = try pool.write { db in
            try Self.settleMaxTxTimestamp(db)
            return try Self.uncoveredTimestampFloor(db)
        }
        recentCommits = Mutex(RecentCommits(floor: floor))
    }

    /// The integer kept in `meta` under `key` (the replay filter's keys), if any.
    static func integerMeta(_ db: Database, _ key: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ? AND typeof(value) = 'integer'", arguments: [key])
    }

    /// Brings `max_tx_timestamp` (the highest timestamp of a committed transaction) up to the
    /// stored tip. Every commit keeps it, with `max_tx_timestamp_height`, the height it is good
    /// for; blocks above that height (all of them the first time this version opens a database,
    /// or blocks an earlier version committed after a downgrade) have their bodies read here. A
    /// pruned body hides its timestamp: the value is then unknown for good (only the height is
    /// kept), and every replay check of this store reads the database.
    static func settleMaxTxTimestamp(_ db: Database) throws {
        let tip = try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM blocks") ?? 0
        let upTo = try integerMeta(db, "max_tx_timestamp_height")
        let known = try integerMeta(db, "max_tx_timestamp")
        guard upTo.map({ $0 < tip && known != nil }) ?? true else { return }
        var highest = known ?? .min
        var readable = true
        let bodies = try Row.fetchCursor(db, sql: "SELECT body FROM txs WHERE height > ?", arguments: [upTo ?? -1])
        while let row = try bodies.next() {
            guard let t = try? TransactionBody.parse(Array(row["body"] as Data)).timestamp else {
                readable = false
                break
            }
            highest = max(highest, t)
        }
        if readable {
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('max_tx_timestamp', ?)", arguments: [highest])
        } else {
            try db.execute(sql: "DELETE FROM meta WHERE key = 'max_tx_timestamp'")
        }
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('max_tx_timestamp_height', ?)", arguments: [tip])
    }

    /// The highest timestamp a transaction committed in `db` may have (`Int64.min`: none
    /// committed; `Int64.max`: not known): the floor of a fresh `RecentCommits`. Committed
    /// transactions count through `max_tx_timestamp` (`settleMaxTxTimestamp`); the ids a state
    /// snapshot carried through `carried_max_timestamp`, written when it was loaded.
    static func uncoveredTimestampFloor(_ db: Database) throws -> Int64 {
        var floor = Int64.min
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM txs LIMIT 1") != nil {
            floor = try integerMeta(db, "max_tx_timestamp") ?? .max
        }
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM snapshot_txids LIMIT 1") != nil {
            floor = max(floor, try integerMeta(db, "carried_max_timestamp") ?? .max)
        }
        return floor
    }

    /// The replay filter's floor now (`RecentCommits.floor`).
    var replayFloor: Int64 { recentCommits.withLock { $0.floor } }

    /// Starts the replay filter again from what the database holds (after a snapshot is loaded).
    func resetRecentCommits() throws {
        let floor = try pool.read(Self.uncoveredTimestampFloor)
        recentCommits.withLock { $0 = RecentCommits(floor: floor) }
    }

    /// Closes the database's connections now (reads and writes fail afterwards), rather than
    /// when the store is released.
    public func close() throws {
        try checkpointer.close()
        try pool.close()
    }

    /// The schema's migrations, in order (a test replays them up to an earlier version).
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE blocks (
                        height INTEGER PRIMARY KEY,
                        hash BLOB NOT NULL UNIQUE,
                        header BLOB NOT NULL,
                        signatures BLOB NOT NULL,
                        time INTEGER NOT NULL,
                        tx_count INTEGER NOT NULL,
                        result_root BLOB NOT NULL,
                        state_hash BLOB NOT NULL
                    );
                    CREATE TABLE certs (fingerprint BLOB PRIMARY KEY, der BLOB NOT NULL) WITHOUT ROWID;
                    CREATE TABLE txs (
                        txid BLOB PRIMARY KEY,
                        height INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        signature BLOB NOT NULL,
                        cert BLOB NOT NULL REFERENCES certs(fingerprint),
                        contract TEXT NOT NULL,
                        method TEXT NOT NULL,
                        signer_org TEXT NOT NULL,
                        signer_role TEXT NOT NULL,
                        signer_subject TEXT NOT NULL,
                        result BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE UNIQUE INDEX txs_position ON txs(height, idx);
                    CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB NOT NULL, height INTEGER NOT NULL) WITHOUT ROWID;
                    CREATE TABLE events (
                        height INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        seq INTEGER NOT NULL,
                        contract TEXT NOT NULL,
                        name TEXT NOT NULL,
                        data TEXT NOT NULL,
                        PRIMARY KEY (height, idx, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX events_name ON events(contract, name, height);
                    """)
        }
        m.registerMigration("v2-consensus") { db in
            try db.execute(
                sql: """
                    CREATE TABLE consensus_state (key TEXT PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE consensus_blocks (
                        id BLOB PRIMARY KEY,
                        height INTEGER NOT NULL,
                        committed INTEGER NOT NULL DEFAULT 0,
                        data BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX consensus_blocks_height ON consensus_blocks(committed, height);
                    """)
        }
        m.registerMigration("v3-epoch-signatures") { db in
            try db.execute(
                sql: """
                    CREATE TABLE epoch_signatures (
                        epoch INTEGER NOT NULL,
                        validator TEXT NOT NULL,
                        signature BLOB NOT NULL,
                        PRIMARY KEY (epoch, validator)
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("v4-snapshot-committed-ids") { db in
            // The ids a state snapshot carried of the transactions committed in its last stretch
            // of blocks (held only by a node started from a snapshot; one snapshot's window).
            try db.execute(
                sql: "CREATE TABLE snapshot_txids (txid BLOB PRIMARY KEY, time INTEGER NOT NULL) WITHOUT ROWID")
        }
        m.registerMigration("v5-append-ordered-txs-and-state") { db in
            // `txs` (keyed by txid) and `state` (keyed by contract keys, mostly hashes) were
            // WITHOUT ROWID tables: every insert landed on a random leaf page of a B-tree of whole
            // rows (8-11 a page) and SQLite rebalanced up to three siblings when it was full. A
            // block wrote about 5 WAL pages per transaction for these two tables (and each page
            // again at the checkpoint). As rowid tables, new rows are appended in commit order and
            // only the unique key index (small entries, 45-90 a page) takes the random insert:
            // 2.7 pages per transaction, measured with this schema (docs/performance.md). Queries
            // are unchanged: `txid` and `key` stay unique (`ON CONFLICT(key)` uses that index).
            try db.execute(
                sql: """
                    CREATE TABLE txs_v5 (
                        txid BLOB NOT NULL UNIQUE,
                        height INTEGER NOT NULL,
                        idx INTEGER NOT NULL,
                        body BLOB NOT NULL,
                        signature BLOB NOT NULL,
                        cert BLOB NOT NULL REFERENCES certs(fingerprint),
                        contract TEXT NOT NULL,
                        method TEXT NOT NULL,
                        signer_org TEXT NOT NULL,
                        signer_role TEXT NOT NULL,
                        signer_subject TEXT NOT NULL,
                        result BLOB NOT NULL
                    );
                    INSERT INTO txs_v5 (txid, height, idx, body, signature, cert, contract, method, signer_org,
                                        signer_role, signer_subject, result)
                        SELECT txid, height, idx, body, signature, cert, contract, method, signer_org, signer_role,
                               signer_subject, result
                        FROM txs ORDER BY height, idx;
                    DROP TABLE txs;
                    ALTER TABLE txs_v5 RENAME TO txs;
                    CREATE UNIQUE INDEX txs_position ON txs(height, idx);
                    CREATE TABLE state_v5 (key TEXT NOT NULL UNIQUE, value BLOB NOT NULL, height INTEGER NOT NULL);
                    INSERT INTO state_v5 (key, value, height) SELECT key, value, height FROM state ORDER BY height, key;
                    DROP TABLE state;
                    ALTER TABLE state_v5 RENAME TO state;
                    """)
        }
        return m
    }

    // MARK: epoch changes

    /// Keeps a validator's signature of the change to `epoch` (once per validator).
    public func addEpochSignature(_ signature: ValidatorSignature, epoch: UInt64) throws {
        let epoch = try Self.column(epoch)
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO epoch_signatures (epoch, validator, signature) VALUES (?, ?, ?)",
                arguments: [epoch, signature.validator, Data(signature.signature)])
        }
    }

    /// The stored signatures of the change to `epoch`, by validator id.
    public func epochSignatures(epoch: UInt64) throws -> [ValidatorSignature] {
        guard let epoch = Int64(exactly: epoch) else { return [] }
        return try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT validator, signature FROM epoch_signatures WHERE epoch = ? ORDER BY validator",
                arguments: [epoch]
            ).map { ValidatorSignature(validator: $0["validator"], signature: Array($0["signature"] as Data)) }
        }
    }

    /// Adds finality signatures to their blocks in one SQLite transaction (one commit, one
    /// `fsync`, however many arrive together; once per validator and block; signatures of heights
    /// not stored are skipped).
    public func addSignatures(_ list: [(height: UInt64, signature: ValidatorSignature)]) throws {
        guard !list.isEmpty else { return }
        try pool.write { db in try Self.addSignatures(list, in: db) }
    }

    /// Merges `list` into the stored blocks' signature lists (heights with no block are skipped).
    static func addSignatures(_ list: [(height: UInt64, signature: ValidatorSignature)], in db: Database) throws {
        var byHeight: [UInt64: [ValidatorSignature]] = [:]
        for (height, signature) in list { byHeight[height, default: []].append(signature) }
        for (height, added) in byHeight {
            guard let row = Int64(exactly: height),
                let raw = try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT signatures FROM blocks WHERE height = ?"), arguments: [row])
            else { continue }
            var sigs = try ValidatorSignature.decodeList(Array(raw))
            let before = sigs.count
            for signature in added where !sigs.contains(where: { $0.validator == signature.validator }) {
                sigs.append(signature)
            }
            guard sigs.count != before else { continue }
            sigs.sort { $0.validator < $1.validator }
            try db.cachedStatement(sql: "UPDATE blocks SET signatures = ? WHERE height = ?").execute(
                arguments: [Data(ValidatorSignature.encodeList(sigs)), row])
        }
    }

    /// Binds this database to a genesis: records it on first use, refuses a different one later.
    public func bindGenesis(hash: Hash256, chainId: String) throws {
        try pool.write { db in
            if let existing = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'genesis'") {
                guard Array(existing) == hash.bytes else {
                    throw ChainError(.genesisMismatch, "database \(self.path) belongs to another genesis")
                }
            } else {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('genesis', ?)", arguments: [Data(hash.bytes)])
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('chain_id', ?)", arguments: [Data(chainId.utf8)])
            }
        }
    }

    /// The last committed block, or nil when only genesis exists.
    public func tip() throws -> ChainTip? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT height, hash, time, result_root, state_hash FROM blocks ORDER BY height DESC LIMIT 1"))
            else { return nil }
            return ChainTip(
                height: UInt64(row["height"] as Int64),
                hash: try Self.hash(row["hash"]),
                timestamp: row["time"],
                resultRoot: try Self.hash(row["result_root"]),
                stateHash: try Self.hash(row["state_hash"]))
        }
    }

    /// Commits one block atomically. Refuses a block that does not extend the current tip.
    public func commit(_ c: BlockCommit) throws {
        let header = c.block.header
        // Into the replay filter first: if the write then fails, the filter only says "maybe".
        recentCommits.withLock { recent in
            for (t, timestamp) in zip(c.transactions, c.timestamps) { recent.insert(t.transaction.id, timestamp: timestamp) }
        }
        try pool.write { db in
            // Statements cached per connection: this runs for every block (a prepare each was ~1 %
            // of a validator's time under load).
            let tip = try Row.fetchOne(db.cachedStatement(sql: "SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1"))
            let tipHeight = UInt64((tip?["height"] as Int64?) ?? 0)
            let tipHash = try tip.map { try Self.hash($0["hash"]) } ?? .zero
            guard header.height == tipHeight + 1, header.parentHash == tipHash else {
                throw ChainError(
                    .notNextBlock, "block \(header.height) does not extend the stored tip \(tipHeight)")
            }
            try db.cachedStatement(
                sql: """
                    INSERT INTO blocks (height, hash, header, signatures, time, tx_count, result_root, state_hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    Int64(header.height), Data(header.hash.bytes), Data(header.encoded),
                    Data(ValidatorSignature.encodeList(c.block.signatures)), header.timestamp, Int64(header.txCount),
                    Data(c.resultRoot.bytes), Data(c.stateHash.bytes),
                ])
            // The rows of every transaction are bound through SQLite's C API (`BulkInsert`): GRDB's
            // arguments boxed every value and copied every blob into a `Data` first.
            let certInsert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO certs (fingerprint, der) VALUES (?, ?)")
            let txInsert = try BulkInsert(
                db,
                cachedSQL: """
                    INSERT INTO txs (txid, height, idx, body, signature, cert, contract, method,
                                     signer_org, signer_role, signer_subject, result)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let eventInsert = try BulkInsert(
                db, cachedSQL: "INSERT INTO events (height, idx, seq, contract, name, data) VALUES (?, ?, ?, ?, ?, ?)")
            // A block's transactions mostly share a few signers: each certificate is inserted
            // once per block, not once per transaction, under the fingerprint its record carries
            // (its signer's, computed when the certificate was verified).
            var inserted: Set<Hash256> = []
            for t in c.transactions {
                let fp = t.certificateFingerprint.bytes
                if inserted.insert(t.certificateFingerprint).inserted {
                    try certInsert.execute(arguments: [Data(fp), Data(t.transaction.signerCertificate)])
                }
                let height = Int64(t.height)
                try txInsert.row { b in
                    b.blob(1, copying: t.transaction.id.bytes)
                    b.int(2, height)
                    b.int(3, Int64(t.index))
                    b.blob(4, copying: t.transaction.body)
                    b.blob(5, copying: t.transaction.signature)
                    b.blob(6, copying: fp)
                    b.text(7, copying: t.contract)
                    b.text(8, copying: t.method)
                    b.text(9, copying: t.signerOrg)
                    b.text(10, copying: t.signerRole)
                    b.text(11, copying: t.signerSubject)
                    b.blob(12, copying: t.result.encoded)
                }
                for (seq, e) in t.result.events.enumerated() {
                    try eventInsert.row { b in
                        b.int(1, height)
                        b.int(2, Int64(t.index))
                        b.int(3, Int64(seq))
                        b.text(4, copying: e.contract)
                        b.text(5, copying: e.name)
                        b.text(6, copying: e.data.canonicalString)
                    }
                }
            }
            // Absent only where pruned bodies hid timestamps (`settleMaxTxTimestamp`).
            if let highest = c.timestamps.max() {
                try db.cachedStatement(
                    sql: "UPDATE meta SET value = MAX(value, ?) WHERE key = 'max_tx_timestamp' AND typeof(value) = 'integer'"
                ).execute(arguments: [highest])
            }
            try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'max_tx_timestamp_height'").execute(
                arguments: [Int64(header.height)])
            if let cb = c.consensusBlock {
                try self.consensus.markCommitted(db, id: cb.id, height: cb.height, bytes: cb.bytes)
            }
            // Other validators' signatures of earlier blocks, carried by this commit (no write of their own).
            try Self.addSignatures(c.finality, in: db)
            let put = try BulkInsert(
                db,
                cachedSQL:
                    "INSERT INTO state (key, value, height) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, height = excluded.height"
            )
            let delete = try db.cachedStatement(sql: "DELETE FROM state WHERE key = ?")
            let height = Int64(header.height)
            for w in c.writes {
                if let v = w.value {
                    try put.row { b in
                        b.text(1, copying: w.key)
                        b.blob(2, copying: v)
                        b.int(3, height)
                    }
                } else {
                    try delete.execute(arguments: [w.key])
                }
            }
        }
    }

    /// The committed value under a state key.
    public func read(_ key: String) throws -> [UInt8]? {
        try pool.read { db in try Self.read(key, in: db) }
    }

    /// Committed entries under a key prefix, in byte order of the key (SQLite compares TEXT keys
    /// with memcmp under the default BINARY collation).
    public func scan(prefix: String, after: String? = nil, limit: Int) throws -> [StateEntry] {
        guard limit > 0 else { return [] }
        return try pool.read { db in try Self.scan(prefix: prefix, after: after, limit: limit, in: db) }
    }

    /// Through SQLite's C API, the key bound as GRDB binds it (`BulkInsert.bindText`): a block's
    /// execution reads keys one at a time, and GRDB's arguments and its `Data` result were a copy
    /// and a boxing per read.
    static func read(_ key: String, in db: Database) throws -> [UInt8]? {
        // Bound as a C string, a key holding a NUL would find the key cut short; none is stored
        // (execution refuses them), so none is found.
        guard !key.utf8.contains(0) else { return nil }
        let statement = try db.cachedStatement(sql: "SELECT value FROM state WHERE key = ?")
        let s = statement.sqliteStatement
        defer {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
        }
        let bound = BulkInsert.bindText(s, 1, key)
        guard bound == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: bound), message: db.lastErrorMessage, sql: statement.sql)
        }
        switch sqlite3_step(s) {
        case SQLITE_ROW:
            guard let base = sqlite3_column_blob(s, 0) else { return [] }
            return Array(UnsafeRawBufferPointer(start: base, count: Int(sqlite3_column_bytes(s, 0))))
        case SQLITE_DONE:
            return nil
        case let code:
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }

    static func scan(prefix: String, after: String?, limit: Int, in db: Database) throws -> [StateEntry] {
        // As in `read`: no stored key holds a NUL, so no key starts with such a prefix.
        guard limit > 0, !prefix.utf8.contains(0), !(after?.utf8.contains(0) ?? false) else { return [] }
        let statement = try db.cachedStatement(
            sql: """
                SELECT key, value FROM state WHERE key >= ? AND substr(CAST(key AS BLOB), 1, ?) = CAST(? AS BLOB)
                ORDER BY key LIMIT ?
                """)
        let rows = try Row.fetchAll(
            statement, arguments: [after ?? prefix, prefix.utf8.count, prefix, limit + (after == nil ? 0 : 1)])
        var out: [StateEntry] = []
        for row in rows {
            let key: String = row["key"]
            if let after, key == after { continue }
            out.append(StateEntry(key: key, value: Array(row["value"] as Data)))
            if out.count == limit { break }
        }
        return out
    }

    /// Runs `body` with the committed state as of now, read in one SQLite read transaction: for
    /// executing a block, whose contracts read many single keys (each `read` on the store itself
    /// takes a reader connection from the pool and opens and ends a transaction). Blocking: call it
    /// off the cooperative pool.
    public func withStateReadTransaction<T>(_ body: (StateReadTransaction) throws -> T) throws -> T {
        try pool.read { db in try body(StateReadTransaction(db: db)) }
    }

    /// Committed contract events named `name` of `contract`, oldest first, from block `fromHeight`.
    public func events(contract: String, name: String, fromHeight: UInt64 = 0, limit: Int) throws -> [StoredEvent] {
        guard let fromHeight = Int64(exactly: fromHeight) else { return [] }
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT height, idx, seq, data FROM events WHERE contract = ? AND name = ? AND height >= ?
                    ORDER BY height, idx, seq LIMIT ?
                    """,
                arguments: [contract, name, fromHeight, limit]
            ).map { row in
                StoredEvent(
                    height: UInt64(row["height"] as Int64), index: row["idx"], seq: row["seq"], contract: contract,
                    name: name, data: row["data"])
            }
        }
    }

    /// The block at `height`.
    public func block(at height: UInt64) throws -> StoredBlock? {
        try pool.read { db in try self.block(db, height: height) }
    }

    /// The header of the block at `height`, nil when there is none: what checking a finality
    /// signature or dating a transaction needs, without reading the block's transaction ids.
    public func header(at height: UInt64) throws -> BlockHeader? {
        guard let height = Int64(exactly: height) else { return nil }
        return try pool.read { db in
            try Data.fetchOne(db, sql: "SELECT header FROM blocks WHERE height = ?", arguments: [height]).map {
                try BlockHeader(decoding: Array($0), hasher: self.hasher)
            }
        }
    }

    /// Up to `limit` blocks' headers and finality signatures from `from` upwards (what finality
    /// requests ask about, without each block's transaction ids).
    public func signedHeaders(from: UInt64, limit: Int) throws -> [(header: BlockHeader, signatures: [ValidatorSignature])] {
        guard let from = Int64(exactly: from), limit > 0 else { return [] }
        return try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT header, signatures FROM blocks WHERE height >= ? ORDER BY height LIMIT ?",
                arguments: [from, limit]
            ).map { row in
                (
                    try BlockHeader(decoding: Array(row["header"] as Data), hasher: self.hasher),
                    try ValidatorSignature.decodeList(Array(row["signatures"] as Data))
                )
            }
        }
    }

    /// Up to `limit` blocks from `from` upwards.
    public func blocks(from: UInt64, limit: Int) throws -> [StoredBlock] {
        try pool.read { db in
            var out: [StoredBlock] = []
            var h = from
            while out.count < limit, let b = try self.block(db, height: h) {
                out.append(b)
                h += 1
            }
            return out
        }
    }

    /// The full block at `height`: header, transactions and signatures. Throws `pruned` for a
    /// stored block whose transaction bodies were pruned.
    public func fullBlock(at height: UInt64) throws -> Block? {
        try pool.read { db in
            guard let stored = try self.block(db, height: height) else { return nil }
            if height < (try self.bodiesPrunedBelow(db)) { throw Self.prunedError(height: height) }
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT t.body, t.signature, c.der FROM txs t JOIN certs c ON c.fingerprint = t.cert WHERE t.height = ? ORDER BY t.idx",
                arguments: [Int64(height)])
            let txs = rows.map {
                SignedTransaction(
                    body: Array($0["body"] as Data), signature: Array($0["signature"] as Data),
                    signerCertificate: Array($0["der"] as Data), hasher: hasher)
            }
            return Block(header: stored.header, transactions: txs, signatures: stored.signatures)
        }
    }

    private func block(_ db: Database, height: UInt64) throws -> StoredBlock? {
        // Heights come from requests and peers: one above Int64.max names no block (SQLite
        // integers are signed), it must not trap converting.
        guard let height = Int64(exactly: height) else { return nil }
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT header, signatures, result_root, state_hash FROM blocks WHERE height = ?",
                arguments: [height])
        else { return nil }
        let header = try BlockHeader(decoding: Array(row["header"] as Data), hasher: hasher)
        let txids = try Data.fetchAll(
            db, sql: "SELECT txid FROM txs WHERE height = ? ORDER BY idx", arguments: [height]
        ).map { try Self.hash($0) }
        return StoredBlock(
            header: header, hash: header.hash, signatures: try ValidatorSignature.decodeList(Array(row["signatures"] as Data)),
            txids: txids, resultRoot: try Self.hash(row["result_root"]), stateHash: try Self.hash(row["state_hash"]))
    }

    /// The committed transaction with this id. Throws `pruned` when its block's bodies were pruned
    /// (`place(of:)` still answers where it is and how it ended), or when it was committed before
    /// the state snapshot this node started from.
    public func transaction(_ txid: Hash256) throws -> StoredTransaction? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.*, c.der FROM txs t JOIN certs c ON c.fingerprint = t.cert WHERE t.txid = ?
                        """,
                    arguments: [Data(txid.bytes)])
            else {
                if try Self.carried(txid, in: db) {
                    throw ChainError(
                        .pruned,
                        "transaction \(txid.hex) was committed before the state snapshot this node started from; its block is not held here (ask a node holding it)"
                    )
                }
                return nil
            }
            let height = UInt64(row["height"] as Int64)
            if height < (try self.bodiesPrunedBelow(db)) { throw Self.prunedError(height: height) }
            let tx = SignedTransaction(
                body: Array(row["body"] as Data), signature: Array(row["signature"] as Data),
                signerCertificate: Array(row["der"] as Data), hasher: hasher)
            return StoredTransaction(
                transaction: tx, height: UInt64(row["height"] as Int64), index: row["idx"], contract: row["contract"],
                method: row["method"], signerOrg: row["signer_org"], signerRole: row["signer_role"],
                signerSubject: row["signer_subject"], certificateFingerprint: Hash256(Array(row["cert"] as Data)),
                result: try TransactionResult(decoding: Array(row["result"] as Data)))
        }
    }

    /// Where the committed transaction with this id is and how it ended; answered for pruned
    /// blocks too.
    public func place(of txid: Hash256) throws -> TransactionPlace? {
        try pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT height, idx, contract, method, result FROM txs WHERE txid = ?",
                    arguments: [Data(txid.bytes)])
            else { return nil }
            return TransactionPlace(
                height: UInt64(row["height"] as Int64), index: row["idx"], contract: row["contract"], method: row["method"],
                result: try TransactionResult(decoding: Array(row["result"] as Data)))
        }
    }

    // MARK: pruning

    /// Blocks below this height have no transaction bodies on this node (1 when none were pruned).
    public func bodiesPrunedBelow() throws -> UInt64 {
        try pool.read { db in try self.bodiesPrunedBelow(db) }
    }

    func bodiesPrunedBelow(_ db: Database) throws -> UInt64 {
        guard let raw = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'bodies_pruned_below'") else {
            return 1
        }
        guard raw.count == 8 else { throw ChainError(.storageCorrupt, "stored pruning height is not 8 bytes") }
        return raw.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func prunedError(height: UInt64) -> ChainError {
        ChainError(
            .pruned,
            "the transaction bodies of block \(height) were pruned from this node; its header, results and proofs remain (a node joining the chain starts from a snapshot)"
        )
    }

    /// Deletes the transaction bodies and signatures of blocks below `below` (never the tip's),
    /// at most `maxBlocks` heights in one SQLite transaction. Headers, finality signatures,
    /// transaction ids, results, events and the state stay, so replay checks, commit outcomes,
    /// inclusion proofs and queries keep working. Returns the height below which bodies are gone
    /// afterwards; call again while it is short of `below`.
    @discardableResult
    public func pruneBodies(below: UInt64, maxBlocks: Int = 256) throws -> UInt64 {
        try pool.write { db in
            let current = try self.bodiesPrunedBelow(db)
            let tip = UInt64(try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM blocks") ?? 0)
            let target = min(below, tip, current + UInt64(max(1, maxBlocks)))
            guard target > current else { return current }
            try db.execute(
                sql: "UPDATE txs SET body = X'', signature = X'' WHERE height >= ? AND height < ?",
                arguments: [try Self.column(current), try Self.column(target)])
            var bytes = [UInt8](repeating: 0, count: 8)
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: target >> (8 * (7 - i))) }
            try db.execute(
                sql:
                    "INSERT INTO meta (key, value) VALUES ('bodies_pruned_below', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [Data(bytes)])
            return target
        }
    }

    /// Bytes of transaction bodies and signatures held for blocks from `from` up to (not
    /// including) `below`; what pruning those heights frees.
    public func bodyBytes(from: UInt64 = 1, below: UInt64 = UInt64(Int64.max)) throws -> Int {
        try pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COALESCE(SUM(length(body) + length(signature)), 0) FROM txs WHERE height >= ? AND height < ?",
                arguments: [try Self.column(from), try Self.column(below)]) ?? 0
        }
    }

    /// The transactions among `txs` (ids and their timestamps) that are committed, including
    /// those a state snapshot carried. Most answers come from memory (`RecentCommits`); only ids
    /// the filter cannot rule out are looked up.
    public func committedIDs(among txs: [(id: Hash256, timestamp: Int64)]) throws -> Set<Hash256> {
        let maybe = recentCommits.withLock { recent in
            txs.filter { recent.mayBeCommitted($0.id, timestamp: $0.timestamp) }.map(\.id)
        }
        return try committedIDs(among: maybe)
    }

    /// Which of the given ids are already committed: in a stored block, or before the state
    /// snapshot this node started from (the ids it carried, `installSnapshot`). Reads the
    /// database for each; `committedIDs(among:)` of ids with timestamps mostly does not.
    public func committedIDs(among ids: [Hash256]) throws -> Set<Hash256> {
        guard !ids.isEmpty else { return [] }
        return try pool.read { db in
            var found = Set<Hash256>()
            let stmt = try db.cachedStatement(sql: "SELECT 1 FROM txs WHERE txid = ?")
            for id in ids where try Bool.fetchOne(stmt, arguments: [Data(id.bytes)]) != nil || Self.carried(id, in: db) {
                found.insert(id)
            }
            return found
        }
    }

    /// True when the transaction was committed before the state snapshot this node started from
    /// (its id came with the snapshot; its block is not held here).
    static func carried(_ txid: Hash256, in db: Database) throws -> Bool {
        let statement = try db.cachedStatement(sql: "SELECT 1 FROM snapshot_txids WHERE txid = ?")
        return try Bool.fetchOne(statement, arguments: [Data(txid.bytes)]) != nil
    }

    /// Number of committed transactions.
    public func transactionCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM txs") ?? 0 }
    }

    /// A height as an SQLite integer (signed 64-bit); one beyond `Int64.max` is refused, not trapped on.
    static func column(_ height: UInt64) throws(ChainError) -> Int64 {
        guard let h = Int64(exactly: height) else { throw ChainError(.badHeight, "height \(height) is out of range") }
        return h
    }

    static func hash(_ data: Data?) throws -> Hash256 {
        guard let data, let h = Hash256(Array(data)) else { throw ChainError(.storageCorrupt, "stored hash is not 32 bytes") }
        return h
    }

}
