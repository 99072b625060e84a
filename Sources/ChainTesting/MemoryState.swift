import ChainCore
import Execution

/// Committed state held in memory, for pure execution and query tests: reads, prefix scans in
/// UTF-8 byte order (as SQLite orders keys), and applying a block's writes.
public struct MemoryState: StateScanner {
    /// The stored values by full key.
    public var values: [String: [UInt8]] = [:]

    /// Empty state.
    public init() {}

    public func read(_ key: String) throws -> [UInt8]? { values[key] }

    public func scan(prefix: String, after: String?, limit: Int) throws -> [StateEntry] {
        let p = Array(prefix.utf8)
        let a = after.map { Array($0.utf8) }
        return
            values
            .map { (k: Array($0.key.utf8), key: $0.key, value: $0.value) }
            .filter { e in e.k.starts(with: p) && (a.map { $0.lexicographicallyPrecedes(e.k) } ?? true) }
            .sorted { $0.k.lexicographicallyPrecedes($1.k) }
            .prefix(max(0, limit))
            .map { StateEntry(key: $0.key, value: $0.value) }
    }

    /// Applies a block's writes (a nil value deletes).
    public mutating func apply(_ writes: [StateWrite]) {
        for w in writes { values[w.key] = w.value }
    }
}
