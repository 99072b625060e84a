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
        try read(StateKey(k), k)
    }

    private func read(_ key: StateKey, _ k: String) throws -> [UInt8]? {
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

    /// The JSON value under `key`. The value is a function of the bytes alone, so the block's
    /// transactions share one parse of a record while its bytes stay the same (`BlockState.json`).
    public func getJSON(_ key: String) throws -> JSONValue? {
        let k = fullKey(key)
        let stateKey = StateKey(k)
        guard let raw = try read(stateKey, k) else { return nil }
        return try blockState.json(stateKey, raw)
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
///
/// Many transactions of a block read the same records (a scan reads its code's season and
/// merchant, every step its signer's membership), so the block asks the store for a committed key
/// once and parses a record's bytes once while they stay the same. Both memories hold at most
/// `memoryBudget` bytes of values between them; past it, reads go to the store and parse again.
final class BlockState {
    let committed: any StateReader
    /// Keyed by UTF-8 bytes, as in `ExecutionContext.writes`.
    var overlay: [StateKey: [UInt8]?] = [:]
    /// Fuel used by the block's WebAssembly calls so far (failed ones included).
    var wasmFuelUsed: UInt64 = 0

    /// Committed values read so far in the block (nil: absent). Committed state does not change
    /// while a block executes.
    private var committedReads: [StateKey: [UInt8]?] = [:]
    /// The JSON value last parsed under each key, with the bytes it was parsed from: a hit needs
    /// equal bytes, so a value written since (by an earlier transaction, or by this one) is parsed
    /// anew, and a failed transaction's writes leave nothing another transaction could see.
    private var parsed: [StateKey: (bytes: [UInt8], value: JSONValue)] = [:]
    /// Bytes of values held by the two memories.
    private(set) var memoryUsed = 0
    /// The most the two memories hold, counted in the bytes of keys and values (a parsed record
    /// by the bytes it was parsed from).
    let memoryBudget: Int
    /// Store reads and parses made (what the memories saved shows in tests).
    private(set) var storeReads = 0
    private(set) var parses = 0

    /// The default `memoryBudget`: 16 MiB.
    static let defaultMemoryBudget = 16 << 20

    init(committed: any StateReader, memoryBudget: Int = BlockState.defaultMemoryBudget) {
        self.committed = committed
        self.memoryBudget = memoryBudget
    }

    /// The value under `key` (its bytes and its string, so neither is made twice).
    func read(_ key: StateKey, _ string: String) throws -> [UInt8]? {
        if let v = overlay[key] { return v }
        if let v = committedReads[key] { return v }
        let value: [UInt8]?
        do {
            value = try committed.read(string)
        } catch {
            throw StateReadFault(underlying: error)
        }
        storeReads += 1
        if take(key.bytes.count + (value?.count ?? 0)) { committedReads[key] = value }
        return value
    }

    /// `raw`, the value now under `key`, parsed as JSON; a state read fault when it is not JSON
    /// (contracts write their JSON records canonically, so anything else is damage).
    func json(_ key: StateKey, _ raw: [UInt8]) throws -> JSONValue {
        if let hit = parsed[key], hit.bytes == raw { return hit.value }
        let value: JSONValue
        do {
            value = try JSONParser().parse(raw)
        } catch {
            throw StateReadFault(underlying: error)
        }
        parses += 1
        if let old = parsed.removeValue(forKey: key) { memoryUsed -= key.bytes.count + old.bytes.count }
        if take(key.bytes.count + raw.count) { parsed[key] = (raw, value) }
        return value
    }

    /// Counts `bytes` against the budget; false (nothing counted) when they do not fit.
    private func take(_ bytes: Int) -> Bool {
        guard memoryUsed + bytes <= memoryBudget else { return false }
        memoryUsed += bytes
        return true
    }
}
