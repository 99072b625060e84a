import ChainCore
import Foundation
import GRDB
import GRDBSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// Writing the state as a snapshot, and loading a certified snapshot into an empty store
/// (`docs/proofs.md`, state snapshots).
extension BlockStore {
    /// The file name of chunk `index` in a snapshot directory.
    public static func snapshotChunkName(_ index: Int) -> String {
        let digits = String(index)
        return "chunk-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Writes the state after the stored tip into `directory` (created if needed): the chunk files
    /// (`snapshotChunkName`, state chunks first, then the committed-id chunks) and `manifest`
    /// (`SnapshotManifest.encoded`). Tip, state and ids are read in one SQLite read transaction,
    /// so blocks committed meanwhile are not in it. The ids carried are those of the transactions
    /// of every block whose time is at least the tip's less `2 × timestampToleranceMs`
    /// (`SnapshotManifest`, why), with the ids this node's own snapshot carried when their window
    /// reaches below the block it started from, sorted by id. Blocking: call it off the
    /// cooperative pool.
    public func writeStateSnapshot(
        chainId: String, timestampToleranceMs: Int64, to directory: URL, chunkBytes: Int = SnapshotChunk.targetBytes
    ) throws -> SnapshotManifest {
        try writeStateSnapshot(
            chainId: chainId, timestampToleranceMs: timestampToleranceMs, to: directory, chunkBytes: chunkBytes, reader: pool)
    }

    func writeStateSnapshot(
        chainId: String, timestampToleranceMs: Int64, to directory: URL, chunkBytes: Int, reader: some DatabaseReader
    ) throws -> SnapshotManifest {
        guard timestampToleranceMs >= 0 else {
            throw ChainError(.badConfig, "timestampToleranceMs must not be negative")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try reader.read { db in
            guard
                let tip = try Row.fetchOne(
                    db, sql: "SELECT height, hash, time, result_root, state_hash FROM blocks ORDER BY height DESC LIMIT 1")
            else { throw ChainError(.notFound, "no block yet: nothing to snapshot") }
            var chunker = SnapshotChunker(target: chunkBytes)
            var hashes: [Hash256] = []
            func emit(_ chunk: [UInt8]) throws {
                let index = hashes.count
                try Data(chunk).write(to: directory.appendingPathComponent(Self.snapshotChunkName(index)))
                hashes.append(self.hasher.hash(chunk))
            }
            var count: UInt64 = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT key, value FROM state ORDER BY key")
            while let row = try cursor.next() {
                count += 1
                if let chunk = chunker.add(StateEntry(key: row["key"], value: Array(row["value"] as Data))) {
                    try emit(chunk)
                }
            }
            if let chunk = chunker.finish() { try emit(chunk) }
            let stateChunks = hashes.count
            // The committed ids of the window, sorted (SQLite's sorter spills to a temporary file
            // beyond its cache: a chain at 1,200 tx/s has about 1.4 M ids in 20 minutes).
            let tipTime: Int64 = tip["time"]
            let committedSince = SnapshotManifest.committedSince(blockTime: tipTime, timestampToleranceMs: timestampToleranceMs)
            let lowest = try Self.lowestHeight(db, since: committedSince)
            let perChunk = max(1, (chunkBytes - 4) / CommittedIDChunk.entryBytes)
            var batch: [CommittedID] = []
            var ids: UInt64 = 0
            let idCursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT txid, time FROM (
                        SELECT t.txid AS txid, b.time AS time FROM txs t JOIN blocks b ON b.height = t.height WHERE t.height >= ?
                        UNION ALL
                        SELECT txid, time FROM snapshot_txids WHERE time >= ?
                    ) ORDER BY txid
                    """, arguments: [lowest, committedSince])
            while let row = try idCursor.next() {
                batch.append(CommittedID(id: try Self.hash(row["txid"]), blockTime: row["time"]))
                ids += 1
                if batch.count == perChunk {
                    try emit(CommittedIDChunk.encode(batch))
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { try emit(CommittedIDChunk.encode(batch)) }
            let manifest = SnapshotManifest(
                chainId: chainId, height: UInt64(tip["height"] as Int64), headerHash: try Self.hash(tip["hash"]),
                resultRoot: try Self.hash(tip["result_root"]), stateHash: try Self.hash(tip["state_hash"]), entryCount: count,
                chunkHashes: Array(hashes[..<stateChunks]), committedSince: committedSince, committedCount: ids,
                committedChunkHashes: Array(hashes[stateChunks...]))
            try Data(manifest.encoded).write(to: directory.appendingPathComponent("manifest"))
            return manifest
        }
    }

    /// The lowest held height whose block time is at least `since` (block times strictly increase
    /// with the height, so those blocks are the held chain from it to the tip): a binary search of
    /// point reads, not a scan of the blocks. One above the tip when no held block is that late.
    static func lowestHeight(_ db: Database, since: Int64) throws -> Int64 {
        guard var lo = try Int64.fetchOne(db, sql: "SELECT MIN(height) FROM blocks"),
            var hi = try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM blocks")
        else { return 0 }
        let time = try db.cachedStatement(sql: "SELECT time FROM blocks WHERE height = ?")
        guard (try Int64.fetchOne(time, arguments: [hi]) ?? Int64.min) >= since else { return hi + 1 }
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if (try Int64.fetchOne(time, arguments: [mid]) ?? Int64.min) >= since { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Loads a snapshot whose manifest the caller has checked against its certificate
    /// (`SnapshotManifest.verifyCertificate`) into this store, which must hold no block
    /// (`store_not_empty`): the snapshot's block (`header`, whose hash the manifest names, with its
    /// verified finality `signatures`, and the manifest's result root and state hash) becomes the
    /// tip, and every entry of the chunks (`chunk(i)`, each checked by a `SnapshotReceiver`)
    /// becomes the state; the committed ids it carries are kept (`committedIDs(among:)` answers
    /// them as committed, `transaction(_:)` as `pruned`). One SQLite transaction: on any refusal
    /// nothing is loaded. Blocks below the snapshot's are not held (their bodies count as pruned);
    /// the next block commits on top.
    public func installSnapshot(
        _ manifest: SnapshotManifest, header: BlockHeader, signatures: [ValidatorSignature],
        chunk: (Int) throws -> [UInt8]
    ) throws {
        let hasher = self.hasher
        try installSnapshot(manifest, header: header, signatures: signatures) { index in
            try CheckedSnapshotChunk(index: index, try chunk(index), manifest: manifest, hasher: hasher)
        }
    }

    /// `installSnapshot(_:header:signatures:chunk:)` of chunks already checked against the
    /// manifest's hashes (`checked(i)` may block until chunk `i` has arrived: the load runs as
    /// the chunks come, in one SQLite transaction that anything thrown rolls back). The entries
    /// go from each chunk's bytes straight into one prepared statement, in key order (appends to
    /// the state's B-tree). Blocking: call it off the cooperative pool.
    public func installSnapshot(
        _ manifest: SnapshotManifest, header: BlockHeader, signatures: [ValidatorSignature],
        checked: (Int) throws -> CheckedSnapshotChunk
    ) throws {
        guard header.hash == manifest.headerHash, header.height == manifest.height, header.chainId == manifest.chainId,
            manifest.height >= 1
        else {
            throw ChainError(.snapshotMismatch, "the header given is not the snapshot's block")
        }
        try pool.write { db in try Self.load(db, manifest, header: header, signatures: signatures, hasher: hasher, checked) }
        try resetRecentCommits()
    }

    /// Fills the empty database `db` (in its transaction) with the snapshot: `installSnapshot`.
    static func load(
        _ db: Database, _ manifest: SnapshotManifest, header: BlockHeader, signatures: [ValidatorSignature],
        hasher: ChainHasher, _ checked: (Int) throws -> CheckedSnapshotChunk
    ) throws {
        guard try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM blocks") == nil else {
            throw ChainError(.storeNotEmpty, "this node already holds blocks; a snapshot loads only into an empty node")
        }
        try db.execute(
            sql: """
                INSERT INTO blocks (height, hash, header, signatures, time, tx_count, result_root, state_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                try Self.column(header.height), Data(header.hash.bytes), Data(header.encoded),
                Data(ValidatorSignature.encodeList(signatures)), header.timestamp, Int64(header.txCount),
                Data(manifest.resultRoot.bytes), Data(manifest.stateHash.bytes),
            ])
        var receiver = SnapshotReceiver(manifest: manifest, hasher: hasher, blockTime: header.timestamp)
        let height = try Self.column(manifest.height)
        let put = try BulkInsert(db, sql: "INSERT INTO state (key, value, height) VALUES (?, ?, ?)")
        for index in 0..<manifest.chunkHashes.count {
            try receiver.accept(try checked(index)) { key, value in
                try put.row { b in
                    b.text(1, key)
                    b.blob(2, value)
                    b.int(3, height)
                }
            }
        }
        try db.execute(sql: "DELETE FROM snapshot_txids")
        let carry = try BulkInsert(db, sql: "INSERT INTO snapshot_txids (txid, time) VALUES (?, ?)")
        for index in manifest.chunkHashes.count..<manifest.chunkCount {
            for c in try receiver.acceptCommitted(try checked(index)) {
                try c.id.bytes.withUnsafeBytes { id in
                    try carry.row { b in
                        b.blob(1, id)
                        b.int(2, c.blockTime)
                    }
                }
            }
        }
        try receiver.finish()
        var bytes = [UInt8](repeating: 0, count: 8)
        let below = manifest.height + 1
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: below >> (8 * (7 - i))) }
        try db.execute(
            sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('bodies_pruned_below', ?)", arguments: [Data(bytes)])
        // The earliest transaction timestamp whose commit before the snapshot the carried ids
        // settle: the snapshot block's time less the tolerance (half the window).
        let (span, overflow) = header.timestamp.subtractingReportingOverflow(manifest.committedSince)
        if !overflow {
            let earliest = UInt64(bitPattern: header.timestamp - span / 2)
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: earliest >> (8 * (7 - i))) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('snapshot_earliest_timestamp', ?)",
                arguments: [Data(bytes)])
            // The highest timestamp a carried transaction may have, by the same rule (a block
            // holds transactions within the tolerance of its time): the replay filter's floor.
            let (highest, over) = header.timestamp.addingReportingOverflow(span / 2)
            if !over {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('carried_max_timestamp', ?)", arguments: [highest])
            }
        }
    }

    /// `installSnapshot` into the empty database at `path` (`store_not_empty` otherwise), without
    /// writing the data twice: the new database is built beside it, as `<path>.joining`, from a
    /// copy of the empty one (its schema and genesis binding, `VACUUM INTO`) with SQLite's
    /// rollback journal in memory and no fsync while loading (a crash there leaves only that file,
    /// which the next install removes; the database at `path` is not touched); then it is
    /// fsynced, set to WAL mode and renamed over `path` (atomic; the directory is fsynced). In WAL
    /// mode, the one loading transaction went first to the WAL and again into the database at the
    /// checkpoint that followed its commit. The swap needs no other connection to `path` (checked:
    /// the empty database is taken out of WAL mode, which SQLite allows only to its one
    /// connection); when one is open, the load runs in place (`installSnapshot`) instead, and
    /// this returns false. Blocking: call it off the cooperative pool.
    @discardableResult
    public static func installSnapshot(
        atPath path: String, hasher: ChainHasher, _ manifest: SnapshotManifest, header: BlockHeader,
        signatures: [ValidatorSignature], checked: (Int) throws -> CheckedSnapshotChunk
    ) throws -> Bool {
        guard header.hash == manifest.headerHash, header.height == manifest.height, header.chainId == manifest.chainId,
            manifest.height >= 1
        else {
            throw ChainError(.snapshotMismatch, "the header given is not the snapshot's block")
        }
        let side = path + ".joining"
        func removeSide() {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: side + suffix) }
        }
        removeSide()
        let live = try BlockStore(path: path, hasher: hasher)
        guard try live.tip() == nil else {
            throw ChainError(.storeNotEmpty, "this node already holds blocks; a snapshot loads only into an empty node")
        }
        try live.pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [side]) }
        do {
            try live.close()
            // Out of WAL mode (its WAL and shared-memory files go): refused while another
            // connection has the database open.
            // Waiting out a lock held for a moment (the closed store's checkpointer may be in the
            // middle of a checkpoint: opening without a busy timeout failed with "database is
            // locked" in CI); a connection that stays open still makes the change fail.
            let alone = try DatabaseQueue(path: path, configuration: Self.patientConfiguration)
            defer { try? alone.close() }
            guard
                (try? alone.writeWithoutTransaction { db in
                    try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
                }) == "delete"
            else {
                removeSide()
                try BlockStore(path: path, hasher: hasher).installSnapshot(
                    manifest, header: header, signatures: signatures, checked: checked)
                return false
            }
        }
        do {
            let queue = try DatabaseQueue(path: side, configuration: Self.patientConfiguration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = MEMORY")
                try db.execute(sql: "PRAGMA synchronous = OFF")
                try db.execute(sql: "PRAGMA cache_size = -65536")
                try db.inTransaction {
                    try load(db, manifest, header: header, signatures: signatures, hasher: hasher, checked)
                    return .commit
                }
                try db.execute(sql: "PRAGMA synchronous = FULL")
                guard try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL") == "wal" else {
                    throw ChainError(.storageUnavailable, "cannot set \(side) to WAL mode")
                }
            }
            try queue.close()
            try fsync(side)
            guard rename(side, path) == 0 else {
                throw ChainError(.storageUnavailable, "cannot rename \(side) to \(path): errno \(errno)")
            }
            try fsync(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        } catch {
            removeSide()
            throw error
        }
        return true
    }

    /// Whether the database at `path` (created if missing) holds no block; closed again before
    /// this returns.
    public static func isEmpty(atPath path: String, hasher: ChainHasher) throws -> Bool {
        let store = try BlockStore(path: path, hasher: hasher)
        defer { try? store.close() }
        return try store.tip() == nil
    }

    /// Flushes the file or directory at `path` to the disk.
    static func fsync(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { throw ChainError(.storageUnavailable, "cannot open \(path): errno \(errno)") }
        defer { Glibc.close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw ChainError(.storageUnavailable, "cannot fsync \(path): errno \(errno)") }
    }

    /// For a node started from a state snapshot, the earliest transaction timestamp for which the
    /// ids the snapshot carried settle whether it was committed before it (`SnapshotManifest`):
    /// the snapshot block's time less the tolerance its signers used. Nil for any other node.
    public func snapshotEarliestTimestamp() throws -> Int64? {
        try pool.read { db in
            guard
                let raw = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'snapshot_earliest_timestamp'")
            else { return nil }
            guard raw.count == 8 else { throw ChainError(.storageCorrupt, "stored snapshot timestamp is not 8 bytes") }
            return Int64(bitPattern: raw.reduce(0) { $0 << 8 | UInt64($1) })
        }
    }
}
