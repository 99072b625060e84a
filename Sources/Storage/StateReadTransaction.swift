import ChainCore
import GRDB

/// The committed state as one SQLite read transaction sees it (`BlockStore.withStateReadTransaction`):
/// single-key reads and prefix scans with prepared statements kept for the connection.
///
/// Valid only inside the closure it was given to, on that closure's thread: the connection is
/// GRDB's, serialized by it, and the value must not escape (it is `Sendable` only so that it can
/// stand where the executor's protocols ask for a `Sendable` state reader).
public struct StateReadTransaction: @unchecked Sendable {
    let db: Database

    /// The committed value under `key`.
    public func read(_ key: String) throws -> [UInt8]? { try BlockStore.read(key, in: db) }

    /// Committed entries under a key prefix, in byte order of the key, after `after`, at most `limit`.
    public func scan(prefix: String, after: String?, limit: Int) throws -> [StateEntry] {
        try BlockStore.scan(prefix: prefix, after: after, limit: limit, in: db)
    }
}
