// Writes a key, then keeps allocating 1 MiB blocks: must fail with memory_limit and keep nothing.
func dispatch(_ call: Call) throws(XCError) -> JSON {
    XC.putJSON("before-bomb", .bool(true))
    let megabytes = call.args["megabytes"]?.int ?? 1_000
    var kept: [[UInt8]] = []
    var i: Int64 = 0
    while i < megabytes {
        kept.append([UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 1 << 20))
        i += 1
    }
    return .int(Int64(kept.count))
}
