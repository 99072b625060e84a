// Recurses as deep as asked: shallow calls succeed, very deep ones fail with call_depth.
@inline(never)
func down(_ n: Int64) -> Int64 {
    if n == 0 { return 1 }
    let r = down(n - 1)
    return r ^ (r << 1) ^ n
}

func dispatch(_ call: Call) throws(XCError) -> JSON {
    XC.putJSON("before-recursion", .bool(true))
    return .int(down(call.args["depth"]?.int ?? 1_000_000))
}
