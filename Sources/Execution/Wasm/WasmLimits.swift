import ChainCore

/// The limits a WebAssembly contract runs under: part of the chain's rules, so every node must use
/// the same values (set them at genesis and change them only through governance).
///
/// Each limit is checked at a point that does not depend on the machine: module size and shape at
/// deployment, memory in pages as the contract grows it, the interpreter stack in slots of the
/// pinned WasmKit version, and host-call arguments by their byte counts.
public struct WasmLimits: Sendable, Hashable {
    /// Largest module accepted at deployment, in bytes.
    public var maxModuleBytes: Int = 512 * 1024
    /// Most linear memory a contract may have, in 64 KiB pages (initial size included).
    public var maxMemoryPages: Int = 64
    /// Most table elements (the table holds function references for indirect calls).
    public var maxTableElements: Int = 10_000
    /// The interpreter's stack for one call, in bytes of WasmKit stack slots (8 bytes each). Deep
    /// recursion that exhausts it fails with `call_depth`.
    public var stackBytes: Int = 512 * 1024
    /// Longest state key, in bytes (keys are UTF-8 and live in the contract's namespace).
    public var maxKeyBytes: Int = 256
    /// Largest state value, in bytes.
    public var maxValueBytes: Int = 128 * 1024
    /// Most entries one `state_scan` returns; a larger request is clamped to this.
    public var maxScanEntries: Int = 1_000
    /// Most events one call may emit.
    public var maxEvents: Int = 256
    /// Largest event payload (JSON bytes).
    public var maxEventBytes: Int = 64 * 1024
    /// Largest result (JSON bytes) a call may set (a query's answer to a client).
    public var maxResultBytes: Int = 1024 * 1024
    /// Largest result (canonical JSON bytes) of a transaction's call: it is recorded with the
    /// transaction's result and hashed into the block's result root. A call whose result is
    /// larger fails with `limit_exceeded`.
    public var maxRecordedResultBytes: Int = 16 * 1024
    /// Largest answer (canonical JSON bytes, envelope included) of a native contract's query.
    public var maxQueryAnswerBytes: Int = 64 * 1024
    /// Largest call arguments (JSON bytes).
    public var maxArgsBytes: Int = 256 * 1024
    /// Longest error message a contract may report, in bytes; longer ones are cut at a UTF-8
    /// character boundary.
    public var maxErrorMessageBytes: Int = 1024

    /// The default limits.
    public init() {}
}
