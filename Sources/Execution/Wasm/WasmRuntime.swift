import ChainCore
import Synchronization
@_spi(Fuzzing) import WasmKit
import WasmParser

/// A contract module that passed the deployment checks, parsed once and ready to run.
public struct WasmModule: Sendable {
    /// Size of the module, in bytes.
    public let byteCount: Int
    /// The host functions the module imports.
    public let hostFunctions: [String]
    /// Initial size of its memory, in 64 KiB pages.
    public let initialMemoryPages: Int
    /// Whether instances can be reset and reused between calls (see ``WasmRuntime``).
    public let reusable: Bool
    let module: Module
    let mutableGlobalExports: [String]
    let pool = InstancePool()
}

/// Runs WebAssembly contracts deterministically, with fuel metering and resource limits, on WasmKit.
///
/// Deployment (``deploy(_:)``) checks a module once; each ``call(_:method:args:context:host:fuel:)``
/// then runs in an instance in its initial state (memory, globals and tables as instantiation
/// left them, nothing carried over from an earlier call), so the outcome depends only on the
/// module, the arguments, the context and the state the host shows. Nothing but the host functions
/// of ``HostABI`` is linked: no clock, no randomness, no WASI.
///
/// WasmKit translates a function to its internal code the first time an instance calls it, and
/// that translation belongs to the instance; it costs far more than running a typical call. So an
/// instance that finished a call successfully without growing its memory is reset (memory copied
/// back from a snapshot taken after instantiation, mutable globals restored) and kept for the next
/// call of the same contract. A module qualifies only if every mutable global is exported and no
/// instruction changes tables or segments; anything else, and any failed call, gets a fresh
/// instance. Reuse is invisible to the contract: the tests compare every outcome, fuel included,
/// with `reuseInstances` on and off.
public struct WasmRuntime: Sendable {
    /// The limits every call runs under.
    public let limits: WasmLimits
    /// The fuel prices of host calls.
    public let schedule: FuelSchedule
    /// Whether instances are reset and reused between calls.
    public let reuseInstances: Bool
    let engine: Engine
    let validationEngine: Engine

    /// Creates a runtime with the chain's limits and fuel schedule.
    public init(limits: WasmLimits = WasmLimits(), schedule: FuelSchedule = FuelSchedule(), reuseInstances: Bool = true) {
        self.limits = limits
        self.schedule = schedule
        self.reuseInstances = reuseInstances
        self.engine = Engine(
            configuration: EngineConfiguration(
                compilationMode: .lazy, stackSize: limits.stackBytes, features: ModuleInspection.features,
                fuelMetering: true))
        self.validationEngine = Engine(
            configuration: EngineConfiguration(
                compilationMode: .eager, stackSize: limits.stackBytes, features: ModuleInspection.features,
                fuelMetering: true))
    }

    /// Checks a module for deployment and parses it: valid WebAssembly within the size limit, only
    /// host-ABI imports, the required exports, no start function, memory and tables within the
    /// limits, and no floating-point types or instructions. Every function body is translated once
    /// here, so a module that passes cannot fail validation later, at its first call.
    public func deploy(_ bytes: [UInt8]) throws(ChainError) -> WasmModule {
        let facts = try ModuleInspection.inspect(bytes, limits: limits)
        let module: Module
        do {
            module = try parseWasm(bytes: bytes, features: ModuleInspection.features)
            let store = Store(engine: validationEngine)
            store.resourceLimiter = ResourceBudget(limits: limits)
            var imports = Imports()
            for name in facts.importedFunctions {
                guard let type = HostABI.functions[name] else { continue }
                imports.define(
                    module: HostABI.importModule, name: name,
                    Function(store: store, type: type) { _, _ in throw ChainError(.invalidModule, "not callable") })
            }
            _ = try module.instantiate(store: store, imports: imports)
        } catch let error as ChainError {
            throw error
        } catch {
            throw ChainError(.invalidModule, "the module does not validate: \(Self.firstLine(of: error))")
        }
        return WasmModule(
            byteCount: bytes.count, hostFunctions: facts.importedFunctions, initialMemoryPages: facts.initialMemoryPages,
            reusable: facts.reusable, module: module, mutableGlobalExports: facts.mutableGlobalExports)
    }

    /// Runs `method` of a deployed contract as part of a transaction, with a budget of `fuel`.
    ///
    /// Returns the outcome whether the contract succeeded or failed; throws only when the host
    /// failed (see ``WasmHostFault``).
    public func call(
        _ contract: WasmModule, method: String, args: JSONValue, context: WasmCallContext, host: some WasmHost,
        fuel: UInt64
    ) throws(WasmHostFault) -> WasmCallOutcome {
        try run(contract, method: method, args: args, context: context, host: host, fuel: fuel, readOnly: false)
    }

    /// Runs `method` as a read-only query: state writes and events fail the call with `read_only`.
    public func query(
        _ contract: WasmModule, method: String, args: JSONValue, context: WasmCallContext, host: some WasmHost,
        fuel: UInt64
    ) throws(WasmHostFault) -> WasmCallOutcome {
        try run(contract, method: method, args: args, context: context, host: host, fuel: fuel, readOnly: true)
    }

    private func run(
        _ contract: WasmModule, method: String, args: JSONValue, context: WasmCallContext, host: any WasmHost,
        fuel: UInt64, readOnly: Bool
    ) throws(WasmHostFault) -> WasmCallOutcome {
        let methodBytes = Array(method.utf8)
        let argBytes = args.canonicalBytes
        func failure(_ error: ChainError, used: UInt64) -> WasmCallOutcome {
            WasmCallOutcome(
                error: error, result: .null, writes: [], events: [], fuelUsed: used, fuelLimit: fuel, logs: [])
        }
        guard argBytes.count <= limits.maxArgsBytes else {
            return failure(
                ChainError(
                    .limitExceeded, "the arguments are \(argBytes.count) bytes; the limit is \(limits.maxArgsBytes)"),
                used: 0)
        }
        let entryCost = FuelMath.add(
            schedule.callBase, FuelMath.times(schedule.perByte, UInt64(methodBytes.count + argBytes.count)))
        guard entryCost <= fuel else {
            return failure(ChainError(.outOfFuel, "the call ran out of fuel"), used: fuel)
        }

        let live: LiveInstance
        do {
            if reuseInstances, contract.reusable, let pooled = contract.pool.take() {
                live = pooled
            } else {
                live = try makeInstance(contract)
            }
        } catch {
            // Instantiation runs no contract code (there is no start function) and succeeded once
            // at deployment, so a failure now is the node's (out of memory), not the contract's.
            throw WasmHostFault(underlying: error)
        }
        let store = live.store
        store.fuel = Fuel(remaining: fuel - entryCost)
        let session = CallSession(
            store: store, limits: limits, schedule: schedule, context: context, host: host, readOnly: readOnly)
        session.memory = live.memory
        session.allocator = live.allocator
        live.slot.current = session
        defer { live.slot.current = nil }
        do {
            let methodPointer = try session.copyIn(methodBytes)
            let argsPointer = try session.copyIn(argBytes)
            let status = try live.entry.invoke([
                .i32(methodPointer), .i32(UInt32(methodBytes.count)), .i32(argsPointer), .i32(UInt32(argBytes.count)),
            ])
            if let code = status.first, code != .i32(0) {
                throw CallAbort.failed(
                    ChainError(.contractError, "the contract's entry point returned \(code.i32) without an error"))
            }
        } catch {
            let remaining = store.fuel?.remaining ?? 0
            let (chainError, outOfFuel) = try Self.classify(error)
            return failure(chainError, used: outOfFuel ? fuel : fuel - remaining)
        }
        let remaining = store.fuel?.remaining ?? 0
        if reuseInstances, contract.reusable, live.reset() { contract.pool.give(live) }
        return WasmCallOutcome(
            error: nil, result: session.result ?? .null, writes: session.netWrites, events: session.events,
            fuelUsed: fuel - remaining, fuelLimit: fuel, logs: session.logs)
    }

    /// Instantiates a contract in a new store and records its initial memory and globals.
    func makeInstance(_ contract: WasmModule) throws -> LiveInstance {
        let store = Store(engine: engine)
        store.resourceLimiter = ResourceBudget(limits: limits)
        let slot = SessionSlot()
        let imports = CallSession.imports(contract.hostFunctions, store: store, slot: slot)
        let instance = try contract.module.instantiate(store: store, imports: imports)
        guard let memory = instance.exports[memory: HostABI.memoryExport],
            let allocator = instance.exports[function: HostABI.allocExport],
            let entry = instance.exports[function: HostABI.callExport]
        else {
            throw CallAbort.failed(ChainError(.trap, "the module lacks a required export"))
        }
        var globals: [(WasmKit.Global, Value)] = []
        for name in contract.mutableGlobalExports {
            if let global = instance.exports[global: name] { globals.append((global, global.value)) }
        }
        let image = memory.withUnsafeBufferPointer(offset: 0, count: memory.byteCount) { Array($0) }
        return LiveInstance(
            store: store, memory: memory, allocator: allocator, entry: entry, slot: slot, image: image, globals: globals)
    }

    /// Maps whatever ended a call to the chain error recorded for it, and whether it was fuel;
    /// rethrows host faults. Messages are fixed texts, never a description of an arbitrary error,
    /// because they are hashed into the block.
    static func classify(_ error: any Error) throws(WasmHostFault) -> (ChainError, outOfFuel: Bool) {
        switch error {
        case let abort as CallAbort:
            switch abort {
            case .outOfFuel: return (ChainError(.outOfFuel, "the call ran out of fuel"), true)
            case .memoryLimit(let what): return (ChainError(.memoryLimit, what), false)
            case .failed(let chainError): return (chainError, false)
            case .fault(let underlying): throw WasmHostFault(underlying: underlying)
            }
        case let trap as Trap:
            let reason = TrapKind(description: trap.description)
            switch reason {
            case .outOfFuel: return (ChainError(.outOfFuel, "the call ran out of fuel"), true)
            case .callStackExhausted:
                return (
                    ChainError(.callDepth, "the contract's calls nested too deep (interpreter stack exhausted)"),
                    false
                )
            default: return (ChainError(.trap, "the contract trapped: \(reason.rawValue)"), false)
            }
        default:
            return (ChainError(.trap, "the contract could not be run"), false)
        }
    }

    static func firstLine(of error: any Error) -> String {
        String(describing: error).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
    }
}

/// The kinds of WasmKit trap a contract can hit, recognised from the trap's description (WasmKit
/// 0.4.2 keeps `Trap.reason` package-internal). The raw value is the fixed text recorded.
enum TrapKind: String {
    case outOfFuel = "out of fuel"
    case callStackExhausted = "call stack exhausted"
    case unreachable = "unreachable"
    case memoryOutOfBounds = "out of bounds memory access"
    case integerDividedByZero = "integer divide by zero"
    case integerOverflow = "integer overflow"
    case invalidConversionToInteger = "invalid conversion to integer"
    case indirectCall = "indirect call failed"
    case tableOutOfBounds = "out of bounds table access"
    case other = "other trap"

    init(description: String) {
        let text = description.hasPrefix("Trap: ") ? String(description.dropFirst(6)) : description
        if text.hasPrefix("indirect call") {
            self = .indirectCall
        } else if text.hasPrefix("out of bounds table access") {
            self = .tableOutOfBounds
        } else {
            let line = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            self = TrapKind(rawValue: line) ?? .other
        }
    }
}

/// An instantiated contract with what it takes to put it back in its initial state.
final class LiveInstance {
    let store: Store
    let memory: WasmKit.Memory
    let allocator: Function
    let entry: Function
    let slot: SessionSlot
    /// The memory right after instantiation.
    let image: [UInt8]
    /// The mutable globals and their values right after instantiation.
    let globals: [(WasmKit.Global, Value)]

    init(
        store: Store, memory: WasmKit.Memory, allocator: Function, entry: Function, slot: SessionSlot, image: [UInt8],
        globals: [(WasmKit.Global, Value)]
    ) {
        self.store = store
        self.memory = memory
        self.allocator = allocator
        self.entry = entry
        self.slot = slot
        self.image = image
        self.globals = globals
    }

    /// Puts the instance back in its initial state; false when that is impossible (its memory
    /// grew, and WebAssembly memory never shrinks).
    func reset() -> Bool {
        guard memory.byteCount == image.count else { return false }
        memory.withUnsafeMutableBufferPointer(offset: 0, count: image.count) { target in
            target.copyBytes(from: image)
        }
        for (global, value) in globals {
            do {
                try global.assign(value)
            } catch {
                return false
            }
        }
        return true
    }
}

/// Idle instances of one contract, ready for a call. An instance is used by one call at a time:
/// `take` hands it out, `give` returns it.
final class InstancePool: Sendable {
    /// Guarded by the mutex; the instances in it are not used by anyone.
    private let idle = Mutex<[UnsafeTransfer]>([])
    /// Idle instances kept at most (more only while calls run in parallel).
    static let capacity = 2

    /// Wraps an instance while it sits in the pool, where no thread uses it.
    struct UnsafeTransfer: @unchecked Sendable {
        let instance: LiveInstance
    }

    func take() -> LiveInstance? {
        idle.withLock { $0.popLast()?.instance }
    }

    func give(_ instance: LiveInstance) {
        idle.withLock { list in
            if list.count < Self.capacity { list.append(UnsafeTransfer(instance: instance)) }
        }
    }
}

/// Ends a call from inside a host function or the resource limiter.
enum CallAbort: Error {
    case outOfFuel
    case memoryLimit(String)
    case failed(ChainError)
    case fault(any Error)
}

/// Enforces the memory and table limits: growing past them ends the call with `memory_limit`
/// (rather than letting `memory.grow` return -1), so the failure is reported for what it is.
final class ResourceBudget: ResourceLimiter {
    let maxMemoryBytes: Int
    let maxTableElements: Int

    init(limits: WasmLimits) {
        maxMemoryBytes = limits.maxMemoryPages * 65536
        maxTableElements = limits.maxTableElements
    }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        guard desired <= maxMemoryBytes else {
            throw CallAbort.memoryLimit(
                "the contract tried to grow its memory to \(desired / 65536) pages; the limit is \(maxMemoryBytes / 65536)")
        }
        return true
    }

    func limitTableGrowth(to desired: Int) throws -> Bool {
        guard desired <= maxTableElements else {
            throw CallAbort.memoryLimit(
                "the contract tried to grow a table to \(desired) elements; the limit is \(maxTableElements)")
        }
        return true
    }
}

/// Saturating arithmetic for fuel prices.
enum FuelMath {
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func times(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? .max : product
    }
}
