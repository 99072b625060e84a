// XiangChain contract SDK for Embedded Swift: the runtime support a contract links with.
//
// A contract is compiled for `wasm32-unknown-none-wasm`, where there is no C library. The Embedded
// Swift runtime still calls a handful of C functions (aligned allocation, free, memcmp, and a
// 128-bit multiply helper from compiler-rt); they are defined here, in Swift, together with the
// bump allocator the host calls through the `xc_alloc` export.
//
// Nothing here reads a clock or a source of randomness: `arc4random_buf`, which the standard
// library uses to seed hashing, fills its buffer with zeros, so every run hashes alike.

@_extern(c, "llvm.wasm.memory.grow.i32")
func _xcMemoryGrow(_ index: Int32, _ delta: Int32) -> Int32

@_extern(c, "llvm.wasm.memory.size.i32")
func _xcMemorySize(_ index: Int32) -> Int32

/// The address of the linker's `__heap_base` (xc_heap.c).
@_extern(c, "xc_heap_base")
func _xcHeapBase() -> UInt

/// The bump allocator's state: a contract instance lives for one call, so memory is never reused
/// except when the most recent allocation is freed.
enum XCHeap {
    /// Next free byte; 0 until the first allocation.
    nonisolated(unsafe) static var next: UInt32 = 0
    /// End of the memory the heap may use (the current memory size).
    nonisolated(unsafe) static var end: UInt32 = 0
    /// Start of the most recent allocation, which `free` can give back.
    nonisolated(unsafe) static var last: UInt32 = 0

    /// Allocates `size` bytes aligned to `align` (a power of two), growing memory by whole pages;
    /// 0 when memory cannot grow. The heap starts at `__heap_base`, past the stack and the static
    /// data, and uses the rest of the initial memory before it grows any.
    static func allocate(_ size: UInt32, align: UInt32) -> UInt32 {
        if end == 0 {
            end = UInt32(bitPattern: _xcMemorySize(0)) &* 65536
            next = UInt32(truncatingIfNeeded: _xcHeapBase())
        }
        let mask = align &- 1
        let (bumped, o1) = next.addingReportingOverflow(mask)
        if o1 { return 0 }
        let start = bumped & ~mask
        let (newNext, o2) = start.addingReportingOverflow(size)
        if o2 { return 0 }
        if newNext > end {
            let pages = (newNext &- end &+ 65535) / 65536
            if _xcMemoryGrow(0, Int32(bitPattern: pages)) < 0 { return 0 }
            end = end &+ pages &* 65536
        }
        last = start
        next = newNext
        return start
    }

    /// Gives back the allocation at `address` if it is the most recent one.
    static func free(_ address: UInt32) {
        if address != 0, address == last {
            next = last
            last = 0
        }
    }
}

/// The allocator the host calls to get space for what it hands the contract (arguments, values read
/// from state, results of host calls). Returns a 16-byte-aligned address, or 0 when memory is
/// exhausted.
@_expose(wasm, "xc_alloc")
@_cdecl("xc_alloc")
public func _xcAlloc(_ size: UInt32) -> UInt32 {
    XCHeap.allocate(size, align: 16)
}

@_cdecl("posix_memalign")
public func _xcPosixMemalign(
    _ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int, _ size: Int
) -> Int32 {
    let address = XCHeap.allocate(UInt32(truncatingIfNeeded: size), align: UInt32(truncatingIfNeeded: max(alignment, 8)))
    if address == 0 { return 12 }  // ENOMEM
    result.pointee = UnsafeMutableRawPointer(bitPattern: UInt(address))
    return 0
}


@_cdecl("_xc_free")
public func _xcFree(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    XCHeap.free(UInt32(truncatingIfNeeded: UInt(bitPattern: pointer)))
}

@_cdecl("memcmp")
public func _xcMemcmp(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Int32 {
    var i = 0
    while i < count {
        let x = a.load(fromByteOffset: i, as: UInt8.self)
        let y = b.load(fromByteOffset: i, as: UInt8.self)
        if x != y { return Int32(x) - Int32(y) }
        i += 1
    }
    return 0
}

// With the bulk-memory feature (on by default for wasm32), these lower to `memory.copy` and
// `memory.fill`, which the runtime meters by the byte.
@_cdecl("memmove")
public func _xcMemmove(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    dst.copyMemory(from: src, byteCount: count)
    return dst
}

@_cdecl("memcpy")
public func _xcMemcpy(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    dst.copyMemory(from: src, byteCount: count)
    return dst
}

@_cdecl("memset")
public func _xcMemset(_ dst: UnsafeMutableRawPointer, _ value: Int32, _ count: Int) -> UnsafeMutableRawPointer {
    dst.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: value), count: count)
    return dst
}

@_cdecl("arc4random_buf")
public func _xcArc4randomBuf(_ buffer: UnsafeMutableRawPointer, _ count: Int) {
    buffer.initializeMemory(as: UInt8.self, repeating: 0, count: count)
}

/// compiler-rt's 128-bit multiply (low 128 bits of the product), which overflow-checked 64-bit
/// multiplication needs on wasm32. Computed on 32-bit halves so that it never calls itself.
@_cdecl("__multi3")
public func _xcMulti3(_ result: UnsafeMutablePointer<UInt64>, _ aLo: UInt64, _ aHi: UInt64, _ bLo: UInt64, _ bHi: UInt64) {
    let a0 = aLo & 0xffff_ffff
    let a1 = aLo >> 32
    let b0 = bLo & 0xffff_ffff
    let b1 = bLo >> 32
    let p00 = a0 &* b0
    let p01 = a0 &* b1
    let p10 = a1 &* b0
    let p11 = a1 &* b1
    let mid = (p00 >> 32) &+ (p01 & 0xffff_ffff) &+ (p10 & 0xffff_ffff)
    let lo = (p00 & 0xffff_ffff) | (mid << 32)
    let hi = p11 &+ (p01 >> 32) &+ (p10 >> 32) &+ (mid >> 32) &+ aLo &* bHi &+ aHi &* bLo
    result[0] = lo
    result[1] = hi
}
