// Uses a Dictionary, whose capacity arithmetic in the standard library is done in Double: the
// module contains floating-point instructions and the chain refuses it at deployment.
func dispatch(_ call: Call) throws(XCError) -> JSON {
    var totals: [String: Int64] = [:]
    for member in call.args.members ?? [] {
        totals[member.key, default: 0] += member.value.int ?? 0
    }
    return .int(Int64(totals.count))
}
