import ChainCore

/// A state write a successful call made, relative to the contract's namespace.
public struct WasmStateWrite: Sendable, Hashable {
    /// The key (UTF-8 bytes).
    public var key: [UInt8]
    /// The new value, or nil for a deletion.
    public var value: [UInt8]?

    /// Creates a write.
    public init(key: [UInt8], value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// An event a successful call emitted.
public struct WasmEvent: Sendable, Hashable {
    /// Event name.
    public var name: String
    /// Event data, parsed strictly.
    public var data: JSONValue

    /// Creates an event.
    public init(name: String, data: JSONValue) {
        self.name = name
        self.data = data
    }
}

/// What one call of a contract produced.
///
/// On failure (`error` non-nil) there are no writes, no events and a null result, whatever the
/// contract did before it failed; `fuelUsed` is still reported, and the embedder charges it.
public struct WasmCallOutcome: Sendable {
    /// Why the call failed, or nil when it succeeded.
    public var error: ChainError?
    /// The contract's result (`set_result`), null when it set none or failed.
    public var result: JSONValue
    /// Net state writes, last value per key in first-write order; empty on failure.
    public var writes: [WasmStateWrite]
    /// Events in emission order; empty on failure.
    public var events: [WasmEvent]
    /// Fuel consumed, at most the budget; the whole budget when the call ran out of fuel.
    public var fuelUsed: UInt64
    /// The budget the call had.
    public var fuelLimit: UInt64
    /// Lines the contract wrote with `debug_log`. Not part of consensus: for developers only.
    public var logs: [String]

    /// True when the call succeeded.
    public var succeeded: Bool { error == nil }
}

/// The codes the runtime itself reports (a contract reports its own with `fail`); a contract that
/// passes one of them to `fail` fails with `contract_error` instead, so a recorded `out_of_fuel` or
/// `trap` always means what the runtime says it means.
public enum WasmErrorCodes {
    /// The reserved codes.
    public static let reserved: Set<ErrorCode> = [
        .outOfFuel, .blockFuelExhausted, .trap, .memoryLimit, .callDepth, .limitExceeded, .badHostCall, .readOnly,
        .contractError, .contractFrozen, .badStateKey,
    ]
}
