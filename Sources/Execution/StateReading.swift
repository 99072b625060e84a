import ChainCore
import Storage

/// Read access to committed contract state.
public protocol StateReader: Sendable {
    /// The value stored under `key`, or nil.
    func read(_ key: String) throws -> [UInt8]?
}

/// Committed state that can also be listed by key prefix, for queries (never for execution:
/// contracts read single keys only, so their cost does not depend on how much state exists).
public protocol StateScanner: StateReader {
    /// Entries whose key starts with `prefix`, in ascending byte order of the key, starting after
    /// `after` when given, at most `limit` of them.
    func scan(prefix: String, after: String?, limit: Int) throws -> [StateEntry]
}

/// Committed contract events, oldest first, for queries.
public protocol EventReader: Sendable {
    /// Committed events named `name` of `contract` from block `fromHeight` on, at most `limit`.
    func events(contract: String, name: String, fromHeight: UInt64, limit: Int) throws -> [StoredEvent]
}

/// The node's SQLite store is the committed state that contracts' queries read.
extension BlockStore: StateScanner, EventReader {}

/// One read transaction of the store: the committed state a block executes against.
extension StateReadTransaction: StateScanner {}
