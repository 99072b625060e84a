import ChainCore
import Foundation
import GRDB

/// Consistent copies of a node's SQLite databases while the node runs.
public enum SQLiteSnapshot {
    /// Copies the database at `source` (in WAL mode, possibly being written by a running node) to
    /// the new file `destination` as it was at one moment, with SQLite's online backup; the copy
    /// is a standalone database (no WAL) and passes an integrity check. `storage_unavailable`
    /// when either side cannot be opened or the copy is damaged.
    public static func copy(from source: String, to destination: String) throws(ChainError) {
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw ChainError(.alreadyExists, "\(destination) exists already")
        }
        do {
            var config = BlockStore.patientConfiguration
            config.readonly = true
            let from = try DatabaseQueue(path: source, configuration: config)
            let to = try DatabaseQueue(path: destination)
            try from.backup(to: to)
            try to.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try from.close()
            try to.close()
        } catch {
            throw ChainError(.storageUnavailable, "cannot copy database \(source): \(error)")
        }
        try check(destination)
    }

    /// The height of the last block in the chain database at `path`, read as it is: opening it
    /// as a `BlockStore` would first bring its schema up to this version's (a backup must stay
    /// a copy of what the node had). 0 for a chain without blocks.
    public static func tipHeight(_ path: String) throws(ChainError) -> UInt64 {
        do {
            var config = Configuration()
            config.readonly = true
            let db = try DatabaseQueue(path: path, configuration: config)
            let height = try db.read { try Int64.fetchOne($0, sql: "SELECT max(height) FROM blocks") }
            try db.close()
            return UInt64(max(0, height ?? 0))
        } catch {
            throw ChainError(.storageUnavailable, "cannot read the chain height of \(path): \(error)")
        }
    }

    /// Runs SQLite's integrity check on the database at `path`.
    public static func check(_ path: String) throws(ChainError) {
        do {
            var config = Configuration()
            config.readonly = true
            let db = try DatabaseQueue(path: path, configuration: config)
            let result = try db.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
            try db.close()
            guard result == "ok" else {
                throw ChainError(.storageUnavailable, "\(path) fails its integrity check: \(result ?? "")")
            }
        } catch let e as ChainError {
            throw e
        } catch {
            throw ChainError(.storageUnavailable, "cannot check database \(path): \(error)")
        }
    }
}
