import ChainCore
import Execution
import Identity

/// Consumer scans and complaints. A scan never fails for what it finds: it records what it saw and raises alerts.
extension CrabTraceContract {
    /// Parses a code argument that must not carry a secret (secrets never go on chain).
    func codeArgument(_ a: Arguments) throws -> GS1Key {
        let code = try DigitalLink.parse(try a.string("code", maxLength: DigitalLink.maxCodeLength))
        guard code.secret == nil else {
            throw ChainError(.badArgs, "\"code\" must not carry the secret; send its salted hash as \"secretHash\"")
        }
        return code.key
    }

    /// `scan {code, secretHash, city, device?, source?, at?}` (consumer or the node's gateway).
    ///
    /// `secretHash` is `CodeSecret.hash` of the secret the consumer presented, computed by the
    /// gateway; the secret itself never reaches the chain. `device` (64 hex) is the gateway's salted
    /// hash of the consumer's device for this code, `source` (64 hex) its salted hash of the client
    /// address; both default to the signer's certificate fingerprint.
    ///
    /// - Unknown code: recorded on that (forged) code's history with a `never_issued` alert, and
    ///   counted as a failed check of the source.
    /// - Known code, wrong or missing secret: nothing is written on the genuine object (a stranger
    ///   who read a printed serial cannot change what its buyer sees); the failed check counts
    ///   against its source, which raises `repeated_failures` past the scan policy's threshold.
    /// - A ring never tagged, with its right secret: `never_issued` (`not_tagged`: a leaked label).
    /// - Otherwise the check counts (`ScanRules`), and may raise `two_cities`, `too_many_scans`,
    ///   `out_of_region` or `late_scan`.
    func scan(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["code", "secretHash", "city", "device", "source", "at"])
        let key = try codeArgument(a)
        let presented = try a.hash64("secretHash")
        let city = try a.city("city")
        let device = try a.optionalHash64("device") ?? s.caller.certificateFingerprint
        let source = try a.optionalHash64("source") ?? s.caller.certificateFingerprint
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
            try failedCheck(s, source: source, object: key.canonical, city: city, reason: "unknown_code")
            return
        }
        guard presented == r.str("secretHash") else {
            try failedCheck(s, source: source, object: key.canonical, city: city, reason: "secret_mismatch")
            return
        }
        if r.str("type") == "ring", r.str("status") != "tagged" {
            data["secretOk"] = .bool(true)
            try s.history(key.canonical, data)
            try s.alert(.neverIssued, object: key.canonical, ["reason": .string("not_tagged"), "city": .string(city)])
            return
        }
        let season = try r.str("season").flatMap { try s.record(CrabKeys.season($0)) } ?? [:]
        let merchant = r.str("merchant")
        let region = try merchant.flatMap { try s.record(CrabKeys.member($0)) }?["salesRegion"]?.arrayValue
        let outcome = ScanRules.apply(
            r, isRing: r.str("type") == "ring", season: season, salesRegion: region, merchant: merchant,
            ScanObservation(city: city, device: device, time: s.now))
        r = outcome.record
        s.put(CrabKeys.object(key), r)
        data["count"] = .int(r.int("scans"))
        data["newDevice"] = .bool(outcome.newDevice)
        try s.history(key.canonical, data)
        for (kind, details) in outcome.alerts { try s.alert(kind, object: key.canonical, details) }
    }

    /// Counts a failed check (wrong or missing secret, unknown code) against its source and its
    /// object, never on the object's own record; past the scan policy's threshold within its window,
    /// the source gets a `repeated_failures` alert.
    func failedCheck(_ s: CrabStep, source: String, object: String, city: String, reason: String) throws {
        let policy = try s.record(CrabKeys.scanPolicy) ?? [:]
        let maxFailures = policy["maxFailuresPerSource"]?.int64Value ?? Self.defaultMaxFailuresPerSource
        let windowHours = policy["failureWindowHours"]?.int64Value ?? Self.defaultFailureWindowHours
        var f = try s.record(CrabKeys.failedChecks(source: source)) ?? [:]
        if s.now - f.int("windowStart") > windowHours * 3_600_000 {
            f["windowStart"] = .int(s.now)
            f["count"] = .int(0)
        }
        f["count"] = .int(f.int("count") + 1)
        f["total"] = .int(f.int("total") + 1)
        f["lastAt"] = .int(s.now)
        f["lastObject"] = .string(object)
        f["lastReason"] = .string(reason)
        s.put(CrabKeys.failedChecks(source: source), f)
        var o = try s.record(CrabKeys.failedChecks(object: object)) ?? [:]
        o["count"] = .int(o.int("count") + 1)
        o["lastAt"] = .int(s.now)
        o["lastCity"] = .string(city)
        s.put(CrabKeys.failedChecks(object: object), o)
        if f.int("count") >= maxFailures {
            try s.alert(
                .repeatedFailures, object: CrabKeys.sourceObject(source),
                [
                    "failures": .int(f.int("count")), "windowHours": .int(windowHours), "lastObject": .string(object),
                    "lastReason": .string(reason), "city": .string(city),
                ])
        }
    }

    /// `complain {code, phoneHash, textHash | text, city?}` (consumer or gateway). The code may be
    /// unknown (a complaint about a forgery). The HTTP gateway keeps the text off chain and sends its
    /// salted hash (`textHash`, 64 hex); a consumer signing directly may send `text` (1–500 characters),
    /// refused with `personal_data` when it, or the city, holds what looks like a phone or ID number
    /// in any spelling (`PersonalData`). The record keeps `textHash` (SHA-256 of the text when given).
    func complain(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["code", "phoneHash", "text", "textHash", "city"])
        let key = try codeArgument(a)
        let phone = try a.hash64("phoneHash")
        let city = try a.optionalCity("city")
        let text = try a.optionalString("text", maxLength: 500)
        let given = try a.optionalHash64("textHash")
        guard (text == nil) != (given == nil) else {
            throw ChainError(.badArgs, "a complaint has either \"text\" or \"textHash\"")
        }
        for (field, value) in [("text", text), ("city", city)] {
            if let value, PersonalData.contains(in: value) {
                throw ChainError(.personalData, "\"\(field)\" holds what looks like a phone or ID number")
            }
        }
        let textHash = given ?? Hash256.sha256(Array((text ?? "").utf8)).hex
        let seq = try s.nextCounter(CrabKeys.complaintCount)
        let known = try s.record(CrabKeys.object(key)) != nil
        var c: Record = [
            "seq": .int(seq), "object": .string(key.canonical), "known": .bool(known), "phoneHash": .string(phone),
            "textHash": .string(textHash), "time": .int(s.now), "height": .int(Int64(s.ctx.height)),
            "txid": .string(s.ctx.txid.hex), "open": .bool(true),
        ]
        if let text { c["text"] = .string(text) }
        if let city { c["city"] = .string(city) }
        s.put(CrabKeys.complaint(seq), c)
        try s.history(key.canonical, ["complaint": .int(seq), "textHash": .string(textHash)])
    }
}
