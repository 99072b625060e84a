// Exercises every host function, for the ABI tests.
func entriesJSON(_ entries: [XCEntry]) -> JSON {
    var list: [JSON] = []
    for e in entries {
        list.append(obj(("key", .string(e.key)), ("value", .string(String(decoding: e.value, as: UTF8.self)))))
    }
    return .array(list)
}

func dispatch(_ call: Call) throws(XCError) -> JSON {
    let args = call.args
    switch call.method {
    case "context":
        let s = XC.signer()
        return obj(
            ("org", .string(s.org)), ("role", .string(s.role)), ("subject", .string(s.subject)),
            ("fingerprint", .string(s.fingerprint)), ("tx", .string(XC.txID())), ("height", .int(XC.blockHeight())),
            ("time", .int(XC.blockTime())))
    case "put":
        XC.put(args["key"]?.string ?? "", Array((args["value"]?.string ?? "").utf8))
        return .null
    case "delete":
        XC.delete(args["key"]?.string ?? "")
        return .null
    case "get":
        guard let v = XC.get(args["key"]?.string ?? "") else { return .null }
        return .string(String(decoding: v, as: UTF8.self))
    case "scan":
        return entriesJSON(
            XC.scan(prefix: args["prefix"]?.string ?? "", after: args["after"]?.string, limit: Int(args["limit"]?.int ?? 100)))
    case "writeThenScan":
        for pair in args["puts"]?.array ?? [] {
            XC.put(pair.array?[0].string ?? "", Array((pair.array?[1].string ?? "").utf8))
        }
        for key in args["deletes"]?.array ?? [] { XC.delete(key.string ?? "") }
        return entriesJSON(
            XC.scan(prefix: args["prefix"]?.string ?? "", after: args["after"]?.string, limit: Int(args["limit"]?.int ?? 100)))
    case "query":
        switch XC.query(
            contract: args["contract"]?.string ?? "", method: args["method"]?.string ?? "", args: args["args"] ?? .null)
        {
        case .success(let value): return obj(("ok", value))
        case .failure(let error): return obj(("code", .string(error.code)), ("message", .string(error.message)))
        }
    case "lookup":
        // Writes, then asks a native contract and keeps the answer; a refused query fails the call
        // with the query's own code (so nothing is written).
        XC.put("written-before-lookup", [1])
        switch XC.query(
            contract: args["contract"]?.string ?? "", method: args["method"]?.string ?? "", args: args["args"] ?? .null)
        {
        case .success(let value):
            XC.putJSON("looked-up", value)
            return obj(("found", value))
        case .failure(let error): throw error
        }
    case "fail":
        XC.put("written-before-fail", [1])
        XC.fail(args["code"]?.string ?? "", args["message"]?.string ?? "")
    case "throw":
        XC.put("written-before-throw", [1])
        throw XCError("custom_error", "thrown by the contract")
    case "emit":
        XC.emit(args["name"]?.string ?? "", args["data"] ?? .null)
        return .null
    case "log":
        XC.log(args["text"]?.string ?? "")
        return .null
    case "echo":
        return args
    case "burn":
        // Pure computation for a given number of rounds.
        var x: Int64 = 1
        var i: Int64 = 0
        let rounds = args["rounds"]?.int ?? 0
        while i < rounds {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            i += 1
        }
        return .int(x)
    default:
        throw XCError("unknown_method", "no method \"\(call.method)\"")
    }
}
