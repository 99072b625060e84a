import ChainCore
import Identity

/// Raised when committed state cannot be read: a fault of the node, not of the transaction,
/// so block execution stops instead of recording a non-deterministic failure.
public struct StateReadFault: Error {
    /// The underlying error.
    public let underlying: any Error
}

/// All a contract sees while running one transaction: its own slice of state, the caller, the
/// block, and an event sink. Writes are buffered and kept only if the transaction succeeds.
public final class ExecutionContext {
    /// The running contract's name; keys are namespaced under it.
    public let contract: String
    /// Who signed the transaction.
    public let caller: SignerIdentity
    /// The transaction id.
    public let txid: Hash256
    /// Height of the block being executed.
    public let height: UInt64
    /// Timestamp of that block, unix milliseconds (the only clock a contract may use).
    public let blockTime: Int64

    /// The chain configuration in force for the block (nil when the executor runs without one).
    public let chainConfig: ChainConfig?

    let blockState: BlockState
    /// The chain's contracts, whose offered queries a WebAssembly contract may make (nil: none).
    let natives: ContractRegistry?
    /// The transaction's result value (a WebAssembly call's JSON result), recorded with its result
    /// when it succeeds; nil: none.
    public internal(set) var resultValue: JSONValue?
    /// Keyed by the key's UTF-8 bytes (`StateKey`).
    var writes: [StateKey: [UInt8]?] = [:]
    var writeOrder: [String] = []
    var events: [ContractEvent] = []

    init(
        contract: String, caller: SignerIdentity, txid: Hash256, height: UInt64, blockTime: Int64, blockState: BlockState,
        chainConfig: ChainConfig? = nil, natives: ContractRegistry? = nil
    ) {
        self.chainConfig = chainConfig
        self.natives = natives
        self.contract = contract
        self.caller = caller
        self.txid = txid
        self.height = height
        self.blockTime = blockTime
        self.blockState = blockState
    }

    private func fullKey(_ key: String) -> String { "\(contract)/\(key)" }

    /// The value under a full key (`<contract>/<key>`) of any contract, as of this transaction.
    func read(fullKey k: String) throws -> [UInt8]? {
        let key = StateKey(k)
        // Never stored (`StateKey.holdsNUL`), not even when this transaction wrote it (its writes
        // then fail it with `bad_state_key`); so never asked of the store, which would cut it short.
        guard !key.holdsNUL else { return nil }
        if let w = writes[key] { return w }
        return try blockState.read(key, k)
    }

    /// The value under `key` in this contract's state, seeing this transaction's own writes.
    public func get(_ key: String) throws -> [UInt8]? {
        try read(fullKey: fullKey(key))
    }

    /// The JSON value under `key`.
    public func getJSON(_ key: String) throws -> JSONValue? {
        guard let raw = try get(key) else { return nil }
        do {
            return try JSONParser().parse(raw)
        } catch {
            throw StateReadFault(underlying: error)
        }
    }

    /// Sets `key` to `value`.
    public func put(_ key: String, _ value: [UInt8]) {
        record(fullKey(key), value)
    }

    /// Sets `key` to a JSON value (stored canonically).
    public func putJSON(_ key: String, _ value: JSONValue) {
        put(key, value.canonicalBytes)
    }

    /// Deletes `key`.
    public func delete(_ key: String) {
        record(fullKey(key), nil)
    }

    private func record(_ k: String, _ v: [UInt8]?) {
        if writes.updateValue(v, forKey: StateKey(k)) == nil { writeOrder.append(k) }
    }

    /// Emits an event, kept in the block with the transaction's result.
    public func emit(_ name: String, _ data: JSONValue) {
        events.append(ContractEvent(contract: contract, name: name, data: data))
    }

    /// Fails with `role_not_allowed` unless the caller has one of `roles`.
    public func requireRole(_ roles: Set<Role>, for step: String) throws(ChainError) {
        guard roles.contains(caller.role) else {
            throw ChainError(
                .roleNotAllowed,
                "\(step) needs role \(roles.map(\.rawValue).sorted().joined(separator: " or ")); signer has \(caller.role.rawValue)"
            )
        }
    }
}

extension ExecutionContext {
    /// Entries of this contract's state whose key starts with `prefix` and sorts after `after`,
    /// at most `limit`, in ascending byte order of the key; keys are returned without the
    /// contract's namespace. Sees the block's earlier writes, not this transaction's own (the
    /// WebAssembly runtime merges those itself). Needs committed state that can be scanned.
    func scan(prefix: String, after: String?, limit: Int) throws -> [StateEntry] {
        let namespace = Array("\(contract)/".utf8)
        let full = namespace + Array(prefix.utf8)
        let fullAfter = after.map { namespace + Array($0.utf8) }
        func inRange(_ key: [UInt8]) -> Bool {
            key.starts(with: full) && (fullAfter.map { $0.lexicographicallyPrecedes(key) } ?? true)
        }
        let overlaid = blockState.overlay.keys.map(\.bytes).filter(inRange)
        guard let scanner = blockState.committed as? any StateScanner else {
            throw StateReadFault(underlying: ChainError(.storageCorrupt, "committed state cannot be scanned"))
        }
        var entries: [([UInt8], [UInt8])] = []
        do {
            let committed = try scanner.scan(
                prefix: String(decoding: full, as: UTF8.self),
                after: fullAfter.map { String(decoding: $0, as: UTF8.self) }, limit: limit + overlaid.count)
            let hidden = Set(overlaid)
            for entry in committed {
                let key = Array(entry.key.utf8)
                if !hidden.contains(key) && inRange(key) { entries.append((key, entry.value)) }
            }
        } catch {
            throw StateReadFault(underlying: error)
        }
        for key in overlaid {
            if let value = blockState.overlay[StateKey(bytes: key)] ?? nil { entries.append((key, value)) }
        }
        entries.sort { $0.0.lexicographicallyPrecedes($1.0) }
        return entries.prefix(limit).map {
            StateEntry(key: String(decoding: $0.0.dropFirst(namespace.count), as: UTF8.self), value: $0.1)
        }
    }

    /// Fuel the block's WebAssembly calls have used so far.
    var blockFuelUsed: UInt64 {
        get { blockState.wasmFuelUsed }
        set { blockState.wasmFuelUsed = newValue }
    }
}

/// State as seen inside one block: committed state plus the writes of the block's earlier
/// successful transactions.
final class BlockState {
    let committed: any StateReader
    /// Keyed by UTF-8 bytes, as in `ExecutionContext.writes`.
    var overlay: [StateKey: [UInt8]?] = [:]
    /// Fuel used by the block's WebAssembly calls so far (failed ones included).
    var wasmFuelUsed: UInt64 = 0

    init(committed: any StateReader) { self.committed = committed }

    /// The value under `key` (its bytes and its string, so neither is made twice).
    func read(_ key: StateKey, _ string: String) throws -> [UInt8]? {
        if let v = overlay[key] { return v }
        do {
            return try committed.read(string)
        } catch {
            throw StateReadFault(underlying: error)
        }
    }
}
