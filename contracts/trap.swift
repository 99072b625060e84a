// Writes a key and emits an event, then traps: must fail with trap and keep nothing.
func dispatch(_ call: Call) throws(XCError) -> JSON {
    XC.putJSON("before-trap", .bool(true))
    XC.emit("about_to_trap", .null)
    switch call.method {
    case "divide":
        let zero = call.args["zero"]?.int ?? 0
        return .int(100 / zero)
    case "overflow":
        let big = call.args["big"]?.int ?? Int64.max
        return .int(big + 1)
    default:
        fatalError("unreachable")
    }
}
