import ChainCore
import Execution
import Identity

/// Consumer scans and complaints. A scan never fails for what it finds: it records what it saw and raises alerts.
extension CrabTraceContract {
    /// Recent scans kept per object for the two-city check.
    static let recentScans = 8

    /// Parses a code argument that must not carry a secret (secrets never go on chain).
    func codeArgument(_ a: Arguments) throws -> GS1Key {
        let code = try DigitalLink.parse(try a.string("code", maxLength: DigitalLink.maxCodeLength))
        guard code.secret == nil else {
            throw ChainError(.badArgs, "\"code\" must not carry the secret; send its salted hash as \"secretHash\"")
        }
        return code.key
    }

    /// `scan {code, secretHash, city, at?}` (consumer or the node's gateway).
    ///
    /// `secretHash` is `CodeSecret.hash` of the secret the consumer presented, computed by the
    /// gateway; the secret itself never reaches the chain. Records the scan (city only) in the
    /// object's history and raises `never_issued`, `two_cities`, `too_many_scans`, `out_of_region`
    /// or `late_scan`. Only scans whose secret matches count towards the scan limits.
    func scan(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["code", "secretHash", "city", "at"])
        let key = try codeArgument(a)
        let presented = try a.hash64("secretHash")
        let city = try a.string("city", maxLength: 64)
        let claimedAt = try a.optionalInt("at", in: 0...Self.maxTime)
        switch key {
        case .sgtin, .gcn: break
        default: throw ChainError(.badArgs, "only ring and coupon codes are scanned")
        }
        var data: Record = ["city": .string(city)]
        if let claimedAt { data["claimedAt"] = .int(claimedAt) }
        guard var r = try s.record(CrabKeys.object(key)) else {
            data["secretOk"] = .bool(false)
            try s.history(key.canonical, data)
            try s.alert(.neverIssued, object: key.canonical, ["reason": .string("unknown_code"), "city": .string(city)])
            return
        }
        let ok = presented == r.str("secretHash")
        data["secretOk"] = .bool(ok)
        guard ok else {
            try s.history(key.canonical, data)
            try s.alert(.neverIssued, object: key.canonical, ["reason": .string("secret_mismatch"), "city": .string(city)])
            return
        }
        if r.str("type") == "ring", r.str("status") != "tagged" {
            try s.history(key.canonical, data)
            try s.alert(.neverIssued, object: key.canonical, ["reason": .string("not_tagged"), "city": .string(city)])
            return
        }
        let count = r.int("scans") + 1
        r["scans"] = .int(count)
        if r["firstScanAt"] == nil {
            r["firstScanAt"] = .int(s.now)
            r["firstScanCity"] = .string(city)
        }
        let season = try r.str("season").flatMap { try s.record(CrabKeys.season($0)) } ?? [:]
        let recent = (r["recent"]?.arrayValue ?? []).compactMap(\.objectValue)
        let window = season.int("scanWindowHours") * 3_600_000
        if window > 0,
            let other = recent.last(where: { $0.str("city") != city && s.now - $0.int("time") <= window })
        {
            try s.alert(
                .twoCities, object: key.canonical,
                ["cities": .array([other["city"] ?? .null, .string(city)]), "withinHours": .int(season.int("scanWindowHours"))])
        }
        let maxScans = season.int("maxScans")
        if maxScans > 0, count == maxScans + 1 {
            try s.alert(.tooManyScans, object: key.canonical, ["scans": .int(count), "maxScans": .int(maxScans)])
        }
        if let merchant = r.str("merchant"), let m = try s.record(CrabKeys.member(merchant)),
            let region = m["salesRegion"]?.arrayValue, !region.isEmpty, !region.contains(.string(city))
        {
            try s.alert(.outOfRegion, object: key.canonical, ["city": .string(city), "merchant": .string(merchant)])
        }
        if season["closesAt"] != nil, s.now > season.int("closesAt") + season.int("lateScanDays") * Self.day {
            try s.alert(
                .lateScan, object: key.canonical, ["season": season["season"] ?? .null, "closesAt": season["closesAt"] ?? .null])
        }
        let kept = (recent + [["city": .string(city), "time": .int(s.now)]]).suffix(Self.recentScans)
        r["recent"] = .array(kept.map { .object($0) })
        s.put(CrabKeys.object(key), r)
        data["count"] = .int(count)
        try s.history(key.canonical, data)
    }

    /// `complain {code, phoneHash, text, city?}` (consumer or gateway). The code may be unknown (a complaint about a forgery).
    /// `text` must hold no personal data (the gateway strips it); the phone is a salted hash.
    func complain(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["code", "phoneHash", "text", "city"])
        let key = try codeArgument(a)
        let phone = try a.hash64("phoneHash")
        let text = try a.string("text", maxLength: 500)
        let city = try a.optionalString("city", maxLength: 64)
        let seq = try s.nextCounter(CrabKeys.complaintCount)
        let known = try s.record(CrabKeys.object(key)) != nil
        var c: Record = [
            "seq": .int(seq), "object": .string(key.canonical), "known": .bool(known), "phoneHash": .string(phone),
            "text": .string(text), "time": .int(s.now), "height": .int(Int64(s.ctx.height)), "txid": .string(s.ctx.txid.hex),
            "open": .bool(true),
        ]
        if let city { c["city"] = .string(city) }
        s.put(CrabKeys.complaint(seq), c)
        try s.history(key.canonical, ["complaint": .int(seq), "text": .string(text)])
    }
}
