import ChainCore
import WasmTypes

/// The contract ABI: the names and signatures of what the host offers (module `xc`) and what a
/// contract must export. `ABI.md` describes each function; this table is what deployment checks
/// imports against, and what the runtime links.
public enum HostABI {
    /// The only import module a contract may use.
    public static let importModule = "xc"
    /// The exported memory.
    public static let memoryExport = "memory"
    /// The exported allocator: `xc_alloc(size: i32) -> i32`.
    public static let allocExport = "xc_alloc"
    /// The exported entry point: `xc_call(method_ptr, method_len, args_ptr, args_len: i32) -> i32`.
    public static let callExport = "xc_call"

    /// The allocator's type.
    public static let allocType = FunctionType(parameters: [.i32], results: [.i32])
    /// The entry point's type.
    public static let callType = FunctionType(parameters: [.i32, .i32, .i32, .i32], results: [.i32])

    /// Host functions by name, with their types.
    public static let functions: [String: FunctionType] = [
        "state_get": FunctionType(parameters: [.i32, .i32], results: [.i64]),
        "state_put": FunctionType(parameters: [.i32, .i32, .i32, .i32]),
        "state_delete": FunctionType(parameters: [.i32, .i32]),
        "state_scan": FunctionType(parameters: [.i32, .i32, .i32, .i32, .i32], results: [.i64]),
        "signer_org": FunctionType(parameters: [], results: [.i64]),
        "signer_role": FunctionType(parameters: [], results: [.i64]),
        "signer_subject": FunctionType(parameters: [], results: [.i64]),
        "signer_fingerprint": FunctionType(parameters: [], results: [.i64]),
        "tx_id": FunctionType(parameters: [], results: [.i64]),
        "block_height": FunctionType(parameters: [], results: [.i64]),
        "block_time": FunctionType(parameters: [], results: [.i64]),
        "emit": FunctionType(parameters: [.i32, .i32, .i32, .i32]),
        "set_result": FunctionType(parameters: [.i32, .i32]),
        "fail": FunctionType(parameters: [.i32, .i32, .i32, .i32]),
        "query": FunctionType(parameters: [.i32, .i32, .i32, .i32, .i32, .i32], results: [.i64]),
        "debug_log": FunctionType(parameters: [.i32, .i32]),
    ]

    /// The value a host function returns for "nothing" where it would return a (pointer, length) pair.
    public static let none: Int64 = -1

    /// Packs a (pointer, length) pair into the i64 that host functions return.
    public static func pack(pointer: UInt32, length: UInt32) -> Int64 {
        Int64(bitPattern: UInt64(pointer) << 32 | UInt64(length))
    }
}
