import ChainCore
import Execution
import Identity

/// Housekeeping and accountability: closing alerts, the time-based sweep, and EPCIS-style error declarations.
extension CrabTraceContract {
    /// Most coupons one sweep looks at.
    public static let maxSweep = 200

    /// Most alerts closed by one `close_alerts`.
    public static let maxAlertsPerClose = 200

    /// `close_alert {seq, note}` (association or regulator): the alert stays stored, marked closed.
    func closeAlert(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["seq", "note"])
        let seq = try a.int("seq", in: 1...Int64.max)
        let note = try a.string("note", maxLength: 500)
        try s.closeAlert(seq, note: note)
    }

    /// `close_alerts {seqs, note}` (association or regulator): closes several alerts with one reason;
    /// every one must exist and be open, else nothing is closed.
    func closeAlerts(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["seqs", "note"])
        let note = try a.string("note", maxLength: 500)
        var seen = Set<Int64>()
        for v in try a.array("seqs", maxItems: Self.maxAlertsPerClose) {
            guard let seq = v.int64Value, seq >= 1, seen.insert(seq).inserted else {
                throw ChainError(.badArgs, "\"seqs\" must list distinct alert numbers ≥ 1")
            }
            try s.closeAlert(seq, note: note)
        }
    }

    /// Defaults of the scan policy.
    static let defaultMaxFailuresPerSource: Int64 = 20
    static let defaultFailureWindowHours: Int64 = 24

    /// `set_scan_policy {maxFailuresPerSource, failureWindowHours}` (association): how many failed
    /// checks (wrong or missing secret, unknown code) one source may make within the window before a
    /// `repeated_failures` alert is raised on that source.
    func setScanPolicy(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["maxFailuresPerSource", "failureWindowHours"])
        let policy: Record = [
            "maxFailuresPerSource": .int(try a.int("maxFailuresPerSource", in: 1...1_000_000)),
            "failureWindowHours": .int(try a.int("failureWindowHours", in: 1...8760)),
        ]
        s.put(CrabKeys.scanPolicy, policy)
        try s.history("policy:scan", policy)
    }

    /// `sweep {gcns}` (association, regulator or node): time-based checks against the block time.
    ///
    /// For each listed coupon: live and past validity → expired (reservation released); redeemed
    /// and its box not shipped within the season's `shipWithinDays` → one `not_shipped` alert.
    /// Unknown or non-due coupons are skipped, so a stale candidate list never fails the sweep.
    /// `CrabQueries.sweepCandidates` lists candidates from committed state.
    func sweep(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gcns"])
        var expired = 0
        var overdue = 0
        for g in try a.stringList("gcns", maxItems: Self.maxSweep, maxLength: 25) {
            let key = GS1Key.gcn(try GS1Key.checkedGCN(g))
            if try expireIfDue(key, s) {
                expired += 1
                continue
            }
            guard var c = try s.record(CrabKeys.object(key)), c.str("status") == CouponStatus.redeemed,
                c["shippedAt"] == nil, !c.flag("overdueAlerted")
            else { continue }
            let season = try s.record(CrabKeys.season(c.str("season") ?? "")) ?? [:]
            let due = c.int("redeemedAt") + season.int("shipWithinDays") * Self.day
            guard s.now > due else { continue }
            c["overdueAlerted"] = .bool(true)
            s.put(CrabKeys.object(key), c)
            try s.alert(
                .notShipped, object: key.canonical,
                ["merchant": c["merchant"] ?? .null, "redeemedAt": .int(c.int("redeemedAt")), "dueBy": .int(due)])
            overdue += 1
        }
        s.ctx.emit("sweep", .object(["expired": .int(expired), "notShipped": .int(overdue)]))
    }

    /// `declare_error {txid, reason: did_not_occur|incorrect_data, note?, correction?}`: by the original
    /// signer's org in the same role, or the regulator. History is never edited: the declaration is
    /// appended to every object the transaction touched, and shown with it.
    func declareError(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["txid", "reason", "note", "correction"])
        let txid = try a.string("txid", maxLength: 64).lowercased()
        guard Hex.isLowercase(txid, byteCount: 32) else {
            throw ChainError(.badArgs, "\"txid\" must be 64 hex characters")
        }
        let reason = try a.choice("reason", ["did_not_occur", "incorrect_data"])
        let note = try a.optionalString("note", maxLength: 500)
        let correction = try a.smallObject("correction", maxBytes: 2048)
        guard let original = try s.record(CrabKeys.tx(txid)) else {
            throw ChainError(.unknownTx, "no crab step was recorded by transaction \(txid)")
        }
        let signer = original["signer"]?.objectValue ?? [:]
        guard
            s.caller.role == .regulator
                || (signer.str("org") == s.caller.org && signer.str("role") == s.caller.role.rawValue)
        else {
            throw ChainError(
                .notSigner,
                "only \(signer.str("org") ?? "?")'s \(signer.str("role") ?? "?") or the regulator may declare this error")
        }
        guard try s.record(CrabKeys.errorDeclaration(txid)) == nil else {
            throw ChainError(.alreadyDeclared, "transaction \(txid) already has an error declaration")
        }
        var data: Record = ["declaredTxid": .string(txid), "reason": .string(reason), "originalStep": original["step"] ?? .null]
        if let note { data["note"] = .string(note) }
        if let correction { data["correction"] = .object(correction) }
        var decl = data
        decl["declaredBy"] = s.signerJSON
        decl["time"] = .int(s.now)
        decl["txid"] = .string(s.ctx.txid.hex)
        s.put(CrabKeys.errorDeclaration(txid), decl)
        for o in (original["objects"]?.arrayValue ?? []).compactMap(\.stringValue) {
            try s.history(o, data)
        }
    }
}
