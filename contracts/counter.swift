// A counter: reads and writes state, takes arguments, returns a result and emits events.
//
// Methods:
//   increment {"by": n}       adds n (1...1000000, default 1) to the counter named by "name"
//                             (default "default"); returns {"name", "value"}; emits "incremented"
//   get {"name"}              returns {"name", "value"} (a read-only method)
//   reset {"name"}            deletes the counter (admin only)

func counterKey(_ args: Args) throws(XCError) -> String {
    "counter/" + (try args.optionalString("name", maxLength: 64) ?? "default")
}

func value(of key: String) throws(XCError) -> Int64 {
    try XC.getJSON(key)?.int ?? 0
}

func dispatch(_ call: Call) throws(XCError) -> JSON {
    switch call.method {
    case "increment":
        let args = try Args(call.args, allowed: ["name", "by"])
        let key = try counterKey(args)
        let by = try args.optionalInt("by", in: 1...1_000_000) ?? 1
        let (next, overflow) = try value(of: key).addingReportingOverflow(by)
        if overflow { throw XCError("overflow", "the counter would overflow") }
        XC.putJSON(key, .int(next))
        let name = String(key.dropFirst(8))
        XC.emit("incremented", obj(("name", .string(name)), ("by", .int(by)), ("value", .int(next))))
        return obj(("name", .string(name)), ("value", .int(next)))
    case "get":
        let args = try Args(call.args, allowed: ["name"])
        let key = try counterKey(args)
        return obj(("name", .string(String(key.dropFirst(8)))), ("value", .int(try value(of: key))))
    case "reset":
        try XC.requireRole("admin", for: "reset")
        let args = try Args(call.args, allowed: ["name"])
        XC.delete(try counterKey(args))
        return .null
    default:
        throw XCError("unknown_method", "no method \"\(call.method)\"")
    }
}
