import ChainCore
import Foundation
import Identity
import Synchronization

/// The native contract `wasm`, through which members put WebAssembly contracts on the chain and
/// call them (`docs/contracts.md`).
///
/// Methods:
/// - `upload` `{sha256, part, parts, data}`: one part (base64, at most ``partBytes`` bytes) of a
///   module's code; when every part is on chain the module is joined, its SHA-256 checked, the
///   deployment checks of ``WasmRuntime/deploy(_:)`` run, and the code is stored under its hash.
///   A module that fails them is refused with its code and the parts are kept for no one.
/// - `deploy` `{name, code}`: a new contract `name` running the stored code `code` (its SHA-256).
/// - `upgrade` `{name, code}`: the contract runs new code from now on; its state is kept.
/// - `freeze` `{name, frozen}`: a frozen contract takes no calls.
/// - `call` `{contract, method, args}`: runs `method` of the contract as this transaction.
///
/// `upload`, `deploy`, `upgrade` and `freeze` need a signer the chain configuration allows
/// (`parameters.contractDeployers`, changed by a governance proposal; by default every org's
/// admins). Keys under `wasm/`: `code/<sha256>` (the module), `part/<sha256>/<n>` (uploaded parts),
/// `contract/<name>` (the record), `state/<name>/<key>` (the contract's own state).
public struct WasmContract: Contract {
    public let name = "wasm"
    /// The runtime (limits and fuel schedule are chain rules).
    public let runtime: WasmRuntime
    /// Largest part of an upload, in bytes of code (base64 makes it a third larger).
    public static let partBytes = 64 * 1024
    /// Default fuel budget of one call.
    public static let defaultTxFuel: UInt64 = 50_000_000
    /// Default fuel budget of one block's calls.
    public static let defaultBlockFuel: UInt64 = 1_000_000_000

    let cache = ModuleCache()

    /// Creates the contract with the chain's runtime.
    public init(runtime: WasmRuntime = WasmRuntime()) {
        self.runtime = runtime
    }

    static let methods: Set<String> = ["upload", "discard", "deploy", "upgrade", "freeze", "call"]

    public func allowedRoles(method: String) -> Set<Role>? {
        // Who may deploy is the chain configuration's; who may call a method is the contract's.
        Self.methods.contains(method) ? Set(Role.allCases).subtracting([.node]) : nil
    }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        switch method {
        case "upload": try upload(args, context)
        case "discard": try discard(args, context)
        case "deploy": try deploy(args, context, upgrade: false)
        case "upgrade": try deploy(args, context, upgrade: true)
        case "freeze": try freeze(args, context)
        case "call": try call(args, context)
        default: throw ChainError(.unknownMethod, "contract wasm has no method \"\(method)\"")
        }
    }

    // MARK: - Lifecycle

    func requireDeployer(_ context: ExecutionContext) throws(ChainError) {
        let parameters = context.chainConfig?.parameters ?? ChainConfig.Parameters()
        guard parameters.mayDeploy(org: context.caller.org, role: context.caller.role.rawValue) else {
            throw ChainError(
                .notDeployer,
                "\(context.caller.org)/\(context.caller.role.rawValue) may not deploy contracts; the chain allows \(parameters.deployers.joined(separator: ", "))"
            )
        }
    }

    static func isHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A contract name: 1–64 of a-z, 0-9, '_' and '-', starting with a letter.
    static func isName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard (1...64).contains(b.count), let first = b.first, first >= 0x61 && first <= 0x7a else { return false }
        return b.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f || $0 == 0x2d }
    }

    func upload(_ args: JSONValue, _ context: ExecutionContext) throws {
        try requireDeployer(context)
        let a = try Arguments(args, allowed: ["sha256", "part", "parts", "data"])
        let hash = try a.string("sha256", maxLength: 64)
        guard Self.isHash(hash) else { throw ChainError(.badArgs, "\"sha256\" must be 64 lowercase hex digits") }
        let maxParts = Int64((runtime.limits.maxModuleBytes + Self.partBytes - 1) / Self.partBytes)
        let parts = try a.int("parts", in: 1...maxParts)
        let part = try a.int("part", in: 0...(parts - 1))
        guard let data = Data(base64Encoded: try a.string("data", maxLength: 4 * Self.partBytes / 3 + 4)),
            !data.isEmpty, data.count <= Self.partBytes
        else {
            throw ChainError(.badArgs, "\"data\" must be base64 of 1–\(Self.partBytes) bytes")
        }
        if try context.get("code/\(hash)") != nil {
            context.emit("code_stored", .object(["sha256": .string(hash), "already": .bool(true)]))
            return
        }
        context.put("part/\(hash)/\(part)", [UInt8](data))
        var code: [UInt8] = []
        for n in 0..<parts {
            if n == part {
                code.append(contentsOf: data)
            } else if let bytes = try context.get("part/\(hash)/\(n)") {
                code.append(contentsOf: bytes)
            } else {
                context.emit(
                    "code_part", .object(["sha256": .string(hash), "part": .int(part), "parts": .int(parts)]))
                return
            }
        }
        guard Hash256.sha256(code).hex == hash else {
            throw ChainError(.codeMismatch, "the \(parts) parts do not hash to \(hash)")
        }
        let module = try runtime.deploy(code)
        for n in 0..<parts { context.delete("part/\(hash)/\(n)") }
        context.put("code/\(hash)", code)
        cache.insert(hash, module)
        context.emit(
            "code_stored",
            .object([
                "sha256": .string(hash), "bytes": .int(Int64(code.count)),
                "hostFunctions": .array(module.hostFunctions.map(JSONValue.string)),
            ]))
    }

    /// `discard {sha256}` (deployers): deletes the uploaded parts of a module that will never be
    /// stored (refused at its last part, or abandoned), which otherwise stay in state under
    /// `wasm/part/`. Fails `not_found` when no part of `sha256` is stored; stored code is never
    /// touched.
    func discard(_ args: JSONValue, _ context: ExecutionContext) throws {
        try requireDeployer(context)
        let a = try Arguments(args, allowed: ["sha256"])
        let hash = try a.string("sha256", maxLength: 64)
        guard Self.isHash(hash) else { throw ChainError(.badArgs, "\"sha256\" must be 64 lowercase hex digits") }
        // A part's number is below the most parts a module may have, so these are all there can be.
        let maxParts = (runtime.limits.maxModuleBytes + Self.partBytes - 1) / Self.partBytes
        var discarded: Int64 = 0
        for n in 0..<maxParts where try context.get("part/\(hash)/\(n)") != nil {
            context.delete("part/\(hash)/\(n)")
            discarded += 1
        }
        guard discarded > 0 else { throw ChainError(.notFound, "no uploaded part of \(hash) is stored") }
        context.emit("parts_discarded", .object(["sha256": .string(hash), "parts": .int(discarded)]))
    }

    func deploy(_ args: JSONValue, _ context: ExecutionContext, upgrade: Bool) throws {
        try requireDeployer(context)
        let a = try Arguments(args, allowed: ["name", "code"])
        let name = try a.string("name", maxLength: 64)
        guard Self.isName(name) else {
            throw ChainError(.badArgs, "\"name\" must be 1–64 of a-z, 0-9, '_', '-', starting with a letter")
        }
        let hash = try a.string("code", maxLength: 64)
        guard Self.isHash(hash) else { throw ChainError(.badArgs, "\"code\" must be a SHA-256, 64 lowercase hex digits") }
        guard try context.get("code/\(hash)") != nil else {
            throw ChainError(.codeNotFound, "no code \(hash) is stored; upload it first")
        }
        let existing = try context.getJSON("contract/\(name)")
        var record: [String: JSONValue]
        if upgrade {
            guard let old = existing?.objectValue else {
                throw ChainError(.unknownContract, "no WebAssembly contract named \"\(name)\"")
            }
            record = old
            record["code"] = .string(hash)
            record["version"] = .int((old["version"]?.int64Value ?? 1) + 1)
            record["upgradedAt"] = .int(Int64(context.height))
        } else {
            guard existing == nil else {
                throw ChainError(.contractExists, "a WebAssembly contract named \"\(name)\" exists; upgrade it instead")
            }
            record = [
                "name": .string(name), "code": .string(hash), "version": .int(1), "frozen": .bool(false),
                "deployedBy": .string(context.caller.org), "deployedAt": .int(Int64(context.height)),
            ]
        }
        context.putJSON("contract/\(name)", .object(record))
        context.emit(
            upgrade ? "upgraded" : "deployed",
            .object(["name": .string(name), "code": .string(hash), "version": record["version"] ?? .int(1)]))
    }

    func freeze(_ args: JSONValue, _ context: ExecutionContext) throws {
        try requireDeployer(context)
        let a = try Arguments(args, allowed: ["name", "frozen"])
        let name = try a.string("name", maxLength: 64)
        guard case .bool(let frozen)? = a["frozen"] else { throw ChainError(.badArgs, "\"frozen\" must be true or false") }
        guard var record = try context.getJSON("contract/\(name)")?.objectValue else {
            throw ChainError(.unknownContract, "no WebAssembly contract named \"\(name)\"")
        }
        record["frozen"] = .bool(frozen)
        context.putJSON("contract/\(name)", .object(record))
        context.emit(frozen ? "frozen" : "unfrozen", .object(["name": .string(name)]))
    }

    // MARK: - Calls

    /// The deployed module with this hash, parsed once per node.
    func module(_ hash: String, _ context: ExecutionContext) throws -> WasmModule {
        if let cached = cache.get(hash) { return cached }
        guard let code = try context.get("code/\(hash)") else {
            throw StateReadFault(underlying: ChainError(.storageCorrupt, "code \(hash) of a deployed contract is missing"))
        }
        let module: WasmModule
        do {
            module = try runtime.deploy(code)
        } catch {
            // It passed these checks when it was stored: the node's rules differ from the chain's.
            throw StateReadFault(underlying: error)
        }
        cache.insert(hash, module)
        return module
    }

    func call(_ args: JSONValue, _ context: ExecutionContext) throws {
        let a = try Arguments(args, allowed: ["contract", "method", "args"])
        let name = try a.string("contract", maxLength: 64)
        let method = try a.string("method", maxLength: 128)
        let callArgs = a["args"] ?? .object([:])
        guard let record = try context.getJSON("contract/\(name)")?.objectValue,
            let hash = record["code"]?.stringValue
        else {
            throw ChainError(.unknownContract, "no WebAssembly contract named \"\(name)\"")
        }
        if record["frozen"] == .bool(true) {
            throw ChainError(.contractFrozen, "contract \(name) is frozen by governance")
        }
        let parameters = context.chainConfig?.parameters ?? ChainConfig.Parameters()
        let txFuel = parameters.contractTxFuel.map { UInt64($0) } ?? Self.defaultTxFuel
        let blockFuel = parameters.contractBlockFuel.map { UInt64($0) } ?? Self.defaultBlockFuel
        let used = context.blockFuelUsed
        guard used < blockFuel else {
            throw ChainError(.blockFuelExhausted, "the block's contract fuel (\(blockFuel)) is used up; submit again")
        }
        let fuel = min(txFuel, blockFuel - used)
        let contract = try module(hash, context)
        let host = ContextWasmHost(context: context, prefix: "state/\(name)/")
        let outcome: WasmCallOutcome
        do {
            outcome = try runtime.call(
                contract, method: method, args: callArgs, context: Self.callContext(context), host: host, fuel: fuel)
        } catch {
            throw StateReadFault(underlying: error.underlying)
        }
        context.blockFuelUsed = used + outcome.fuelUsed
        if let error = outcome.error {
            // Out of the block's share rather than the transaction's own budget: say so.
            if error.code == .outOfFuel && fuel < txFuel {
                throw ChainError(.blockFuelExhausted, "the block's contract fuel ran out during the call; submit again")
            }
            throw error
        }
        for write in outcome.writes {
            let key = "state/\(name)/" + String(decoding: write.key, as: UTF8.self)
            if let value = write.value { context.put(key, value) } else { context.delete(key) }
        }
        for event in outcome.events {
            context.events.append(ContractEvent(contract: "wasm:\(name)", name: event.name, data: event.data))
        }
        if outcome.result != .null {
            // The result is recorded with the transaction and hashed into the result root: bounded.
            let size = outcome.result.canonicalBytes.count
            guard size <= runtime.limits.maxRecordedResultBytes else {
                throw ChainError(
                    .limitExceeded,
                    "the result is \(size) bytes; a transaction's result is limited to \(runtime.limits.maxRecordedResultBytes)")
            }
            context.resultValue = outcome.result
        }
    }

    static func callContext(_ context: ExecutionContext) -> WasmCallContext {
        WasmCallContext(
            signer: WasmSigner(
                org: context.caller.org, role: context.caller.role.rawValue, subject: context.caller.subject,
                certificateFingerprint: context.caller.certificateFingerprint),
            transactionID: context.txid.hex, blockHeight: context.height, blockTime: context.blockTime)
    }

    // MARK: - Queries

    /// The record of contract `name` in committed state, or nil.
    public static func record(_ name: String, state: any StateReader) throws -> JSONValue? {
        guard let raw = try state.read("wasm/contract/\(name)") else { return nil }
        return try JSONParser().parse(raw)
    }

    /// Runs `method` of contract `name` read-only against committed state, as `signer`; the native
    /// queries of `natives` it offers contracts answer from the same state.
    public func query(
        _ name: String, method: String, args: JSONValue, signer: WasmSigner, height: UInt64, time: Int64,
        state: any StateScanner, fuel: UInt64 = 200_000_000, natives: ContractRegistry? = nil
    ) throws -> WasmCallOutcome {
        guard let record = try Self.record(name, state: state)?.objectValue, let hash = record["code"]?.stringValue else {
            throw ChainError(.unknownContract, "no WebAssembly contract named \"\(name)\"")
        }
        let module: WasmModule
        if let cached = cache.get(hash) {
            module = cached
        } else {
            guard let code = try state.read("wasm/code/\(hash)") else {
                throw ChainError(.codeNotFound, "code \(hash) is missing")
            }
            module = try runtime.deploy(code)
            cache.insert(hash, module)
        }
        let host = StateWasmHost(state: state, prefix: "wasm/state/\(name)/", natives: natives)
        do {
            return try runtime.query(
                module, method: method, args: args,
                context: WasmCallContext(signer: signer, transactionID: "", blockHeight: height, blockTime: time), host: host,
                fuel: fuel)
        } catch {
            throw error.underlying
        }
    }
}

/// Parsed modules by code hash, so a contract is validated and parsed once per node, not per call.
final class ModuleCache: Sendable {
    private let modules = Mutex<[String: WasmModule]>([:])
    /// Modules kept at most; beyond that the cache starts over (parsing again is only slower).
    static let capacity = 64

    func get(_ hash: String) -> WasmModule? { modules.withLock { $0[hash] } }

    func insert(_ hash: String, _ module: WasmModule) {
        modules.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll() }
            cache[hash] = module
        }
    }
}

/// A contract's state during a transaction, through the execution context.
struct ContextWasmHost: WasmHost {
    let context: ExecutionContext
    let prefix: String

    func read(_ key: [UInt8]) throws -> [UInt8]? {
        try context.get(prefix + String(decoding: key, as: UTF8.self))
    }

    func scan(prefix scanPrefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [WasmStateEntry] {
        let entries = try context.scan(
            prefix: prefix + String(decoding: scanPrefix, as: UTF8.self),
            after: after.map { prefix + String(decoding: $0, as: UTF8.self) }, limit: limit)
        return entries.map { WasmStateEntry(key: Array($0.key.utf8.dropFirst(prefix.utf8.count)), value: $0.value) }
    }

    func queryNative(contract: String, method: String, args: JSONValue) throws -> JSONValue {
        guard let natives = context.natives else {
            throw ChainError(.unknownContract, "no native contract named \"\(contract)\"")
        }
        let context = self.context
        return try natives.nativeQuery(contract: contract, method: method, args: args) { try context.read(fullKey: $0) }
    }
}

/// A contract's committed state, for queries.
struct StateWasmHost: WasmHost {
    let state: any StateScanner
    let prefix: String
    let natives: ContractRegistry?

    func read(_ key: [UInt8]) throws -> [UInt8]? {
        try state.read(prefix + String(decoding: key, as: UTF8.self))
    }

    func scan(prefix scanPrefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [WasmStateEntry] {
        let entries = try state.scan(
            prefix: prefix + String(decoding: scanPrefix, as: UTF8.self),
            after: after.map { prefix + String(decoding: $0, as: UTF8.self) }, limit: limit)
        return entries.map { WasmStateEntry(key: Array($0.key.utf8.dropFirst(prefix.utf8.count)), value: $0.value) }
    }

    func queryNative(contract: String, method: String, args: JSONValue) throws -> JSONValue {
        guard let natives else { throw ChainError(.unknownContract, "no native contract named \"\(contract)\"") }
        let state = self.state
        return try natives.nativeQuery(contract: contract, method: method, args: args) { try state.read($0) }
    }
}
