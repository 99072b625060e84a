// XiangChain contract SDK for Embedded Swift: the host functions (WebAssembly imports from module
// "xc"). ABI.md describes each one. Pointers and lengths are i32 offsets into this module's linear
// memory; a function that hands back bytes returns them packed as (pointer << 32 | length) in an
// i64, or -1 for "nothing", after placing them in memory it got from `xc_alloc`.

@_extern(wasm, module: "xc", name: "state_get")
@_extern(c)
func _xc_state_get(_ keyPtr: UInt32, _ keyLen: UInt32) -> Int64

@_extern(wasm, module: "xc", name: "state_put")
@_extern(c)
func _xc_state_put(_ keyPtr: UInt32, _ keyLen: UInt32, _ valuePtr: UInt32, _ valueLen: UInt32)

@_extern(wasm, module: "xc", name: "state_delete")
@_extern(c)
func _xc_state_delete(_ keyPtr: UInt32, _ keyLen: UInt32)

@_extern(wasm, module: "xc", name: "state_scan")
@_extern(c)
func _xc_state_scan(_ prefixPtr: UInt32, _ prefixLen: UInt32, _ afterPtr: UInt32, _ afterLen: UInt32, _ limit: Int32) -> Int64

@_extern(wasm, module: "xc", name: "signer_org")
@_extern(c)
func _xc_signer_org() -> Int64

@_extern(wasm, module: "xc", name: "signer_role")
@_extern(c)
func _xc_signer_role() -> Int64

@_extern(wasm, module: "xc", name: "signer_subject")
@_extern(c)
func _xc_signer_subject() -> Int64

@_extern(wasm, module: "xc", name: "signer_fingerprint")
@_extern(c)
func _xc_signer_fingerprint() -> Int64

@_extern(wasm, module: "xc", name: "tx_id")
@_extern(c)
func _xc_tx_id() -> Int64

@_extern(wasm, module: "xc", name: "block_height")
@_extern(c)
func _xc_block_height() -> Int64

@_extern(wasm, module: "xc", name: "block_time")
@_extern(c)
func _xc_block_time() -> Int64

@_extern(wasm, module: "xc", name: "emit")
@_extern(c)
func _xc_emit(_ namePtr: UInt32, _ nameLen: UInt32, _ dataPtr: UInt32, _ dataLen: UInt32)

@_extern(wasm, module: "xc", name: "set_result")
@_extern(c)
func _xc_set_result(_ ptr: UInt32, _ len: UInt32)

@_extern(wasm, module: "xc", name: "fail")
@_extern(c)
func _xc_fail(_ codePtr: UInt32, _ codeLen: UInt32, _ messagePtr: UInt32, _ messageLen: UInt32)

@_extern(wasm, module: "xc", name: "query")
@_extern(c)
func _xc_query(
    _ contractPtr: UInt32, _ contractLen: UInt32, _ methodPtr: UInt32, _ methodLen: UInt32, _ argsPtr: UInt32,
    _ argsLen: UInt32
) -> Int64

@_extern(wasm, module: "xc", name: "debug_log")
@_extern(c)
func _xc_debug_log(_ ptr: UInt32, _ len: UInt32)

/// Calls `body` with the address and length of `bytes` (address 0 for an empty array).
@inline(__always)
func _xcWithBytes<R>(_ bytes: [UInt8], _ body: (UInt32, UInt32) -> R) -> R {
    bytes.withUnsafeBufferPointer { buffer in
        body(UInt32(UInt(bitPattern: buffer.baseAddress)), UInt32(buffer.count))
    }
}

/// Calls `body` with the address and length of the UTF-8 bytes of `text`, without copying them
/// (iterating `String.utf8` element by element is slow in Embedded Swift).
@inline(__always)
func _xcWithString<R>(_ text: String, _ body: (UInt32, UInt32) -> R) -> R {
    var text = text
    return text.withUTF8 { buffer in
        body(UInt32(UInt(bitPattern: buffer.baseAddress)), UInt32(buffer.count))
    }
}

/// The bytes of a packed (pointer, length) pair the host returned, or nil for -1.
func _xcTake(_ packed: Int64) -> [UInt8]? {
    if packed < 0 { return nil }
    let pointer = UInt32(truncatingIfNeeded: packed >> 32)
    let length = Int(UInt32(truncatingIfNeeded: packed))
    if length == 0 { return [] }
    guard let base = UnsafePointer<UInt8>(bitPattern: UInt(pointer)) else { return [] }
    return _xcArray(UnsafeBufferPointer(start: base, count: length))
}

/// An array with a copy of `buffer`, made with one `memory.copy` (`Array(buffer)` copies element
/// by element in Embedded Swift, at dozens of operators a byte).
func _xcArray(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
    return [UInt8](unsafeUninitializedCapacity: buffer.count) { target, initialized in
        UnsafeMutableRawPointer(target.baseAddress!).copyMemory(from: base, byteCount: buffer.count)
        initialized = buffer.count
    }
}
