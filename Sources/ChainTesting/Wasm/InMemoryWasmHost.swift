import ChainCore
import Execution

/// A ``WasmHost`` over an in-memory, byte-ordered key-value map: the state of one contract, for
/// tests and benchmarks.
public final class InMemoryWasmHost: WasmHost {
    /// Committed state of the contract, by key.
    public private(set) var state: [[UInt8]: [UInt8]] = [:]
    /// Native contracts' query handlers, by contract name.
    public var nativeQueries: [String: (String, JSONValue) throws -> JSONValue] = [:]
    /// How many reads and scans the host has served.
    public private(set) var reads = 0

    /// Creates an empty host.
    public init() {}

    public func read(_ key: [UInt8]) throws -> [UInt8]? {
        reads += 1
        return state[key]
    }

    public func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [WasmStateEntry] {
        reads += 1
        var keys = state.keys.filter { $0.starts(with: prefix) }
        if let after { keys = keys.filter { after.lexicographicallyPrecedes($0) } }
        keys.sort { $0.lexicographicallyPrecedes($1) }
        return keys.prefix(limit).map { WasmStateEntry(key: $0, value: state[$0]!) }
    }

    public func queryNative(contract: String, method: String, args: JSONValue) throws -> JSONValue {
        guard let handler = nativeQueries[contract] else {
            throw ChainError(.unknownContract, "no contract named \"\(contract)\"")
        }
        return try handler(method, args)
    }

    /// Applies a successful call's writes, as a block commit would.
    public func apply(_ writes: [WasmStateWrite]) {
        for write in writes {
            if let value = write.value { state[write.key] = value } else { state[write.key] = nil }
        }
    }

    /// The value under a string key, as text.
    public func string(_ key: String) -> String? {
        state[Array(key.utf8)].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Replaces the whole state (for restoring a snapshot).
    public func replaceState(_ newState: [[UInt8]: [UInt8]]) {
        state = newState
    }
}
