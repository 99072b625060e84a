import ChainCore
import Execution

/// Read-only queries over committed crab state, for the HTTP layer. No I/O beyond the scanner.
public struct CrabQueries: Sendable {
    /// Committed state.
    public let state: any StateScanner
    /// Deployment settings (resolver host for URIs).
    public let config: CrabTraceConfig
    /// The contract's key prefix in committed state.
    public static let prefix = "crab/"
    /// Largest page any list query returns.
    public static let maxPage = 1000

    /// Creates queries over `state`.
    public init(state: any StateScanner, config: CrabTraceConfig = CrabTraceConfig()) {
        self.state = state
        self.config = config
    }

    func record(_ key: String) throws -> [String: JSONValue]? {
        guard let raw = try state.read(Self.prefix + key) else { return nil }
        return try JSONParser().parse(raw).objectValue
    }

    func scanAll(_ prefix: String, after: String? = nil, limit: Int = 10_000) throws -> [StateEntry] {
        var out: [StateEntry] = []
        var cursor = after.map { Self.prefix + prefix + $0 }
        while out.count < limit {
            let want = min(500, limit - out.count)
            let page = try state.scan(prefix: Self.prefix + prefix, after: cursor, limit: want)
            out += page
            guard page.count == want, let last = page.last else { break }
            cursor = last.key
        }
        return out
    }

    /// The member record of `org`.
    public func member(_ org: String) throws -> JSONValue? { try record(CrabKeys.member(org)).map { .object($0) } }

    /// Every registered member, in org order (at most `limit`): what sign-in, the workspace's
    /// pickers (carriers, shops, zones) and every page that names an org show.
    public func members(limit: Int = maxPage) throws -> [JSONValue] {
        try scanAll("member/", limit: max(0, min(limit, Self.maxPage))).compactMap { try? JSONParser().parse($0.value) }
    }

    /// The season record.
    public func season(_ id: String) throws -> JSONValue? { try record(CrabKeys.season(id)).map { .object($0) } }

    /// A merchant's stock in a season (granted, promised, delivered, issuanceSuspended).
    public func stock(season: String, org: String) throws -> JSONValue? {
        try record(CrabKeys.stock(season, org)).map { .object($0) }
    }

    /// A merchant's stock in a season as its workspace shows it, nil for an unknown season: the
    /// stored record (`stock`, null before any grant or receipt) and, per season size (ascending),
    /// `{size, onHand, promised, free}` — crabs held heavy enough for the size, crabs promised by
    /// live coupons of that size, and how many more crabs coupons of that size may promise now
    /// (the `issue_coupons` rule: min over sizes X ≤ it of onHand[X] − promised[≥ X], at least 0);
    /// `quotaLeft` = granted − promised − delivered, the association's cap (at least 0).
    public func stockView(season: String, org: String) throws -> JSONValue? {
        guard let seasonRecord = try record(CrabKeys.season(season)) else { return nil }
        let st = try record(CrabKeys.stock(season, org))
        func counts(_ field: String) -> [Int64: Int64] {
            var out: [Int64: Int64] = [:]
            for (k, v) in st?[field]?.objectValue ?? [:] { if let size = Int64(k) { out[size] = v.int64Value ?? 0 } }
            return out
        }
        let onHand = counts("onHand")
        let promised = counts("promisedBySize")
        let sizes = (seasonRecord["sizes"]?.arrayValue ?? []).compactMap(Arguments.tenths).sorted()
        var rows: [JSONValue] = []
        var free = Int64.max
        for x in sizes {
            let need = promised.filter { $0.key >= x }.values.reduce(0, +)
            free = min(free, (onHand[x] ?? 0) - need)
            rows.append(
                .object([
                    "size": liangJSON(x), "onHand": .int(onHand[x] ?? 0), "promised": .int(promised[x] ?? 0),
                    "free": .int(max(0, free)),
                ]))
        }
        let granted = st?["granted"]?.int64Value ?? 0
        let committed = (st?["promised"]?.int64Value ?? 0) + (st?["delivered"]?.int64Value ?? 0)
        return .object([
            "season": .string(season), "org": .string(org), "stock": st.map { .object($0) } ?? .null,
            "sizes": .array(rows), "quotaLeft": .int(max(0, granted - committed)),
        ])
    }

    /// The lot record (with its inspection, frozen and recalled flags).
    public func lot(gtin: String, lot: String) throws -> JSONValue? {
        try record(CrabKeys.object(.lot(gtin: try GS1Key.checkedGTIN(gtin), lot: try GS1Key.checkedLot(lot)))).map { .object($0) }
    }

    /// The stored record of any object.
    public func object(_ key: GS1Key) throws -> JSONValue? { try record(CrabKeys.object(key)).map { .object($0) } }

    /// The history of one object, in order.
    public func history(_ object: String, limit: Int = 10_000) throws -> [HistoryEntry] {
        try scanAll(CrabKeys.historyPrefix(object), limit: limit).compactMap { e in
            (try? JSONParser().parse(e.value)).flatMap(HistoryEntry.init)
        }
    }

    /// Alerts in recording order after sequence `after`, at most `limit`; only open ones when `openOnly`.
    public func alerts(openOnly: Bool = false, limit: Int = 100, after: Int64 = 0) throws -> [JSONValue] {
        let lim = max(0, min(limit, Self.maxPage))
        var out: [JSONValue] = []
        var cursor: String? = after > 0 ? CrabKeys.pad(after, 12) : nil
        while out.count < lim {
            let page = try state.scan(
                prefix: Self.prefix + "alert/", after: cursor.map { Self.prefix + "alert/" + $0 }, limit: 200)
            for e in page {
                guard let a = try? JSONParser().parse(e.value), !openOnly || a["open"]?.boolValue == true else { continue }
                out.append(a)
                if out.count == lim { break }
            }
            guard page.count == 200, let last = page.last else { break }
            cursor = String(last.key.dropFirst((Self.prefix + "alert/").count))
        }
        return out
    }

    /// Which alerts the desk lists.
    public struct AlertFilter: Sendable, Hashable {
        /// `true`: open only; `false`: closed only; nil: both.
        public var open: Bool?
        /// One kind only (`AlertKind.rawValue`).
        public var kind: String?
        /// Alerts on one object only (canonical key, `member:<org>`, `source:<hash>` …).
        public var object: String?

        /// A filter.
        public init(open: Bool? = nil, kind: String? = nil, object: String? = nil) {
            self.open = open
            self.kind = kind
            self.object = object
        }

        func matches(_ a: JSONValue) -> Bool {
            (open == nil || a["open"]?.boolValue == open) && (kind == nil || a["kind"]?.stringValue == kind)
                && (object == nil || a["object"]?.stringValue == object)
        }
    }

    /// One page of alerts, newest first.
    public struct AlertPage: Sendable {
        /// The alerts.
        public let alerts: [JSONValue]
        /// Pass as `before` for the next page; nil when there is none.
        public let next: Int64?
        /// Open alerts in all, and by kind.
        public let openCount: Int64
        /// Open alerts by kind.
        public let openByKind: [String: Int64]

        /// JSON rendering `{alerts, next, openCount, openByKind}`.
        public var json: JSONValue {
            .object([
                "alerts": .array(alerts), "next": next.map { .int($0) } ?? .null, "openCount": .int(openCount),
                "openByKind": .object(openByKind.mapValues { .int($0) }),
            ])
        }
    }

    /// Most alerts looked at for one page of a filtered listing; past it the page ends early with `next`.
    public static let maxAlertsExamined = 5000

    /// Alerts newest first, matching `filter`, with sequence numbers below `before` (all when nil), at
    /// most `limit` per page. Open ones come from the open index; others are read downwards from the
    /// newest, at most `maxAlertsExamined` per page.
    public func alertPage(filter: AlertFilter = AlertFilter(), before: Int64? = nil, limit: Int = 50) throws -> AlertPage {
        let lim = max(1, min(limit, Self.maxPage))
        var out: [JSONValue] = []
        var next: Int64?
        if let object = filter.object {
            let all = try scanAll("alertidx/\(object)/", limit: 100_000).compactMap { e in
                (try? JSONParser().parse(e.value))?.int64Value
            }
            for seq in all.reversed() where before.map({ seq < $0 }) ?? true {
                guard let a = try record(CrabKeys.alert(seq)).map(JSONValue.object), filter.matches(a) else { continue }
                if out.count == lim {
                    next = (out.last?["seq"]?.int64Value).map { $0 }
                    break
                }
                out.append(a)
            }
        } else if filter.open == true {
            let from = before.map { Self.prefix + CrabKeys.openAlert($0) }
            var cursor = from
            var examined = 0
            outer: while out.count < lim, examined < Self.maxAlertsExamined {
                let page = try state.scan(prefix: Self.prefix + CrabKeys.openAlertPrefix, after: cursor, limit: 200)
                for e in page {
                    examined += 1
                    cursor = e.key
                    guard let seq = (try? JSONParser().parse(e.value))?.int64Value,
                        let a = try record(CrabKeys.alert(seq)).map(JSONValue.object), filter.matches(a)
                    else { continue }
                    out.append(a)
                    if out.count == lim { break outer }
                }
                if page.count < 200 {
                    cursor = nil
                    break
                }
            }
            if let c = cursor, let inv = Int64(c.dropFirst((Self.prefix + CrabKeys.openAlertPrefix).count)) {
                next = CrabKeys.inverted(inv)
            }
        } else {
            let newest =
                try state.read(Self.prefix + CrabKeys.alertCount).flatMap { try? JSONParser().parse($0) }?
                .int64Value ?? 0
            var seq = min(newest, (before ?? Int64.max) - 1)
            var examined = 0
            while seq >= 1, out.count < lim, examined < Self.maxAlertsExamined {
                examined += 1
                if let a = try record(CrabKeys.alert(seq)).map(JSONValue.object), filter.matches(a) { out.append(a) }
                seq -= 1
            }
            if seq >= 1 { next = seq + 1 }
        }
        func counter(_ key: String) throws -> Int64 {
            try state.read(Self.prefix + key).flatMap { try? JSONParser().parse($0) }?.int64Value ?? 0
        }
        var byKind: [String: Int64] = [:]
        for k in AlertKind.allCases {
            let n = try counter(CrabKeys.openAlertCount(kind: k.rawValue))
            if n > 0 { byKind[k.rawValue] = n }
        }
        return AlertPage(alerts: out, next: next, openCount: try counter(CrabKeys.openAlertCount), openByKind: byKind)
    }

    /// Failed checks counted against a source (`failsrc`) or an object (`failobj`), if any.
    public func failedChecks(source: String) throws -> JSONValue? {
        try record(CrabKeys.failedChecks(source: source)).map { .object($0) }
    }

    /// Failed checks (wrong or missing secret) made on one object, if any.
    public func failedChecks(object: String) throws -> JSONValue? {
        try record(CrabKeys.failedChecks(object: object)).map { .object($0) }
    }

    /// Alerts recorded about one object.
    public func alerts(object: String) throws -> [JSONValue] {
        try scanAll("alertidx/\(object)/", limit: Self.maxPage).compactMap { e in
            guard let seq = (try? JSONParser().parse(e.value))?.int64Value else { return nil }
            return try record(CrabKeys.alert(seq)).map { .object($0) }
        }
    }

    /// Complaints after sequence `after`, at most `limit`.
    public func complaints(after: Int64 = 0, limit: Int = 100) throws -> [JSONValue] {
        let lim = max(0, min(limit, Self.maxPage))
        return try scanAll("complaint/", after: after > 0 ? CrabKeys.pad(after, 12) : nil, limit: lim).compactMap {
            try? JSONParser().parse($0.value)
        }
    }

    /// Coupons a `sweep` at time `now` would act on (expired live ones, redeemed ones overdue for shipping), at most `limit`.
    public func sweepCandidates(now: Int64, limit: Int = CrabTraceContract.maxSweep) throws -> [String] {
        var out: [String] = []
        var seasons: [String: [String: JSONValue]] = [:]
        var cursor: String?
        while out.count < limit {
            let page = try state.scan(prefix: Self.prefix + "obj/255/", after: cursor, limit: 500)
            for e in page {
                guard let c = (try? JSONParser().parse(e.value))?.objectValue, let gcn = c.str("gcn") else { continue }
                let status = c.str("status") ?? ""
                if CouponStatus.live.contains(status), now > c.int("validUntil") {
                    out.append(gcn)
                } else if status == CouponStatus.redeemed, c["shippedAt"] == nil, !c.flag("overdueAlerted") {
                    let sid = c.str("season") ?? ""
                    if seasons[sid] == nil { seasons[sid] = try record(CrabKeys.season(sid)) ?? [:] }
                    if now > c.int("redeemedAt") + (seasons[sid]?.int("shipWithinDays") ?? 0) * CrabTraceContract.day {
                        out.append(gcn)
                    }
                }
                if out.count == limit { break }
            }
            guard page.count == 500, let last = page.last else { break }
            cursor = last.key
        }
        return out
    }

    // MARK: verify

    /// Verifies a printed code (Digital Link URI on any resolver, short code or bare path with its secret).
    ///
    /// Rules, first match wins: never issued → `unknown [never_issued]`; no secret → `unknown
    /// [secret_missing]`; wrong secret → `unknown [secret_mismatch]` (a forged copy of a real
    /// serial gets the same answer as a forged serial, and no product data); recalled ring, lot or
    /// coupon → `recalled`; redeemed coupon → `redeemed`; any suspicious reason → `suspicious`;
    /// otherwise `genuine`. A live coupon past its validity at `now` (unix ms, e.g. the chain tip's
    /// time) is `suspicious [coupon_expired]`. Fails with `bad_code` for malformed codes or keys
    /// other than ring or coupon.
    ///
    /// With `check` (the consumer's check being made: city, device, node time) the verdict counts
    /// it as the chain will (`ScanRules`): `details.scans` includes it, and an alert it raises is
    /// among the reasons.
    public func verify(code: String, now: Int64? = nil, check: ScanObservation? = nil) throws -> Verdict {
        let printed = try DigitalLink.parse(code)
        let key = printed.key
        switch key {
        case .sgtin, .gcn: break
        case .sscc, .lot: return try verifyBoxOrLot(key)
        default: throw ChainError(.badCode, "only ring, coupon, box and lot codes can be verified")
        }
        func unknown(_ reason: String) -> Verdict {
            Verdict(status: .unknown, reasons: [reason], object: key.canonical, kind: key.kind, details: [:])
        }
        guard let r = try record(CrabKeys.object(key)) else { return unknown("never_issued") }
        guard let secret = printed.secret else { return unknown("secret_missing") }
        guard CodeSecret.hash(key: key, secret: secret) == r.str("secretHash") else { return unknown("secret_mismatch") }

        var reasons: [String] = []
        var recalled = false
        var redeemed = false
        var counted = r
        var checkAlerts: [String] = []
        let countable = r.str("type") != "ring" || r.str("status") == "tagged"
        if let check, countable {
            let season = try r.str("season").flatMap { try record(CrabKeys.season($0)) } ?? [:]
            let region = try r.str("merchant").flatMap { try record(CrabKeys.member($0)) }?["salesRegion"]?.arrayValue
            let outcome = ScanRules.apply(
                r, isRing: r.str("type") == "ring", season: season, salesRegion: region, merchant: r.str("merchant"), check)
            counted = outcome.record
            checkAlerts = outcome.alerts.map(\.0.rawValue)
        }
        var details: [String: JSONValue] = [
            "uri": .string(DigitalLink.uri(key, resolver: config.resolver)), "scans": .int(counted.int("scans")),
            "firstScanAt": counted["firstScanAt"] ?? .null, "firstScanCity": counted["firstScanCity"] ?? .null,
            "devices": .int(counted.int("devicesSeen")), "season": r["season"] ?? .null,
        ]
        var merchantOrg = r.str("merchant")
        if case .sgtin(let gtin, _) = key {
            if r.str("status") != "tagged" { reasons.append("not_tagged") }
            if r.flag("recalled") { recalled = true }
            for k in ["sex", "weightG", "harvestedAt", "lot", "coupon", "box"] { details[k] = r[k] ?? .null }
            if let lotNo = r.str("lot"), let lot = try record(CrabKeys.object(.lot(gtin: gtin, lot: lotNo))) {
                try describeLot(lot, into: &details, reasons: &reasons, recalled: &recalled)
            }
            if let gcn = r.str("coupon"), let c = try record(CrabKeys.object(.gcn(gcn))) {
                merchantOrg = c.str("merchant") ?? merchantOrg
            }
        } else {
            for k in ["sizeLiang", "crabsPerCoupon", "validUntil", "status", "box", "redeemedAt", "shippedAt"] {
                details[k] = r[k] ?? .null
            }
            switch r.str("status") ?? "" {
            case CouponStatus.recalled: recalled = true
            case CouponStatus.redeemed: redeemed = true
            case CouponStatus.expired: reasons.append("coupon_expired")
            case CouponStatus.refunded: reasons.append("coupon_refunded")
            default: break
            }
            if CouponStatus.live.contains(r.str("status") ?? ""), let now, now > r.int("validUntil") {
                reasons.append("coupon_expired")
            }
            if let gtin = r.str("gtin"), let first = r["rings"]?.arrayValue?.first?.stringValue,
                let ring = try record(CrabKeys.object(.sgtin(gtin: gtin, serial: first))), let lotNo = ring.str("lot"),
                let lot = try record(CrabKeys.object(.lot(gtin: gtin, lot: lotNo)))
            {
                details["lot"] = .string(lotNo)
                try describeLot(lot, into: &details, reasons: &reasons, recalled: &recalled)
            }
        }
        if let m = merchantOrg {
            let rec = try record(CrabKeys.member(m))
            details["merchant"] = .object(["org": .string(m), "name": rec?["name"] ?? .null])
            if rec?.flag("suspended") == true { reasons.append("merchant_suspended") }
        }
        for a in try alerts(object: key.canonical) where a["open"]?.boolValue == true {
            if let kind = a["kind"]?.stringValue, !reasons.contains(kind) { reasons.append(kind) }
        }
        for kind in checkAlerts where !reasons.contains(kind) { reasons.append(kind) }
        let status: VerdictStatus =
            recalled ? .recalled : redeemed ? .redeemed : reasons.isEmpty ? .genuine : .suspicious
        if recalled { reasons.insert("recalled", at: 0) }
        return Verdict(status: status, reasons: reasons, object: key.canonical, kind: key.kind, details: details)
    }

    /// The verdict on a box sticker (SSCC) or a lot code, printed in clear (no secret, nothing
    /// recorded): a lot's farm, zone, pond, harvest, inspection, frozen and recall state; a box's
    /// contents (crab count, lot, the lot's facts), custodian and shipping state. A recalled lot, or a
    /// box holding a recalled crab or a crab of a recalled lot, is `recalled`; a frozen, failed or
    /// uninspected lot is `suspicious`; a key never recorded is `unknown [never_issued]`.
    func verifyBoxOrLot(_ key: GS1Key) throws -> Verdict {
        guard let r = try record(CrabKeys.object(key)) else {
            return Verdict(status: .unknown, reasons: ["never_issued"], object: key.canonical, kind: key.kind, details: [:])
        }
        var reasons: [String] = []
        var recalled = false
        var details: [String: JSONValue] = ["uri": .string(DigitalLink.uri(key, resolver: config.resolver))]
        switch key {
        case .lot(_, let lot):
            details["lot"] = .string(lot)
            details["count"] = r["count"] ?? .null
            try describeLot(r, into: &details, reasons: &reasons, recalled: &recalled)
        case .sscc:
            let serials = (r["rings"]?.arrayValue ?? []).compactMap(\.stringValue)
            details["crabs"] = .int(Int64(serials.count))
            for k in ["status", "coupon"] { details[k] = r[k] ?? .null }
            for (field, org) in [("custodian", r.str("custodian")), ("packedBy", r.str("packedBy"))] {
                guard let org else { continue }
                details[field] = .object(["org": .string(org), "name": try record(CrabKeys.member(org))?["name"] ?? .null])
            }
            var lots: [String] = []
            if let gtin = r.str("gtin") {
                for serial in serials {
                    guard let ring = try record(CrabKeys.object(.sgtin(gtin: gtin, serial: serial))) else { continue }
                    if ring.flag("recalled") { recalled = true }
                    if let lot = ring.str("lot"), !lots.contains(lot) { lots.append(lot) }
                }
                details["lots"] = .array(lots.map { .string($0) })
                for lotNo in lots {
                    guard let lot = try record(CrabKeys.object(.lot(gtin: gtin, lot: lotNo))) else { continue }
                    var lotReasons: [String] = []
                    try describeLot(lot, into: &details, reasons: &lotReasons, recalled: &recalled)
                    for reason in lotReasons where !reasons.contains(reason) { reasons.append(reason) }
                }
            }
        default:
            break
        }
        for a in try alerts(object: key.canonical) where a["open"]?.boolValue == true {
            if let kind = a["kind"]?.stringValue, !reasons.contains(kind) { reasons.append(kind) }
        }
        if recalled { reasons.insert("recalled", at: 0) }
        let status: VerdictStatus = recalled ? .recalled : reasons.isEmpty ? .genuine : .suspicious
        return Verdict(status: status, reasons: reasons, object: key.canonical, kind: key.kind, details: details)
    }

    private func describeLot(
        _ lot: [String: JSONValue], into details: inout [String: JSONValue], reasons: inout [String], recalled: inout Bool
    ) throws {
        if let farm = lot.str("farm") {
            let rec = try record(CrabKeys.member(farm))
            details["farm"] = .object(["org": .string(farm), "name": rec?["name"] ?? .null])
            if rec?.flag("suspended") == true { reasons.append("farm_suspended") }
        }
        for k in ["zone", "pond", "harvestedAt", "season"] where lot[k] != nil { details[k] = lot[k] }
        // The pond's lease contract with the village collective (三资), when the farm names one.
        if let farm = lot.str("farm"), let pond = lot.str("pond"),
            let ponds = try record(CrabKeys.member(farm))?["ponds"]?.arrayValue,
            let lease = ponds.first(where: { $0["pond"]?.stringValue == pond })?["lease"]
        {
            details["pondLease"] = lease
        }
        if let insp = lot["inspection"]?.objectValue {
            details["inspection"] = .object([
                "result": insp["result"] ?? .null, "time": insp["time"] ?? .null, "lab": insp["lab"] ?? .null,
            ])
            if insp.str("result") != "pass" { reasons.append("inspection_failed") }
        } else {
            reasons.append("not_inspected")
        }
        if lot.flag("frozen") { reasons.append("lot_frozen") }
        if lot.flag("recalled") { recalled = true }
    }

    // MARK: trace

    /// The accountability trace of a code (ring, coupon, box or lot; the secret, if any, is ignored).
    public func trace(code: String) throws -> AccountabilityTrace {
        let key = try DigitalLink.parse(code).key
        var objects: [String] = []
        func add(_ k: GS1Key) { if !objects.contains(k.canonical) { objects.append(k.canonical) } }
        func addRing(_ gtin: String, _ serial: String) throws {
            let rk = GS1Key.sgtin(gtin: gtin, serial: serial)
            add(rk)
            guard let ring = try record(CrabKeys.object(rk)) else { return }
            if let lot = ring.str("lot") { add(.lot(gtin: gtin, lot: lot)) }
            for b in (ring["boxes"]?.arrayValue ?? []).compactMap(\.stringValue) { add(.sscc(b)) }
            if let gcn = ring.str("coupon") { add(.gcn(gcn)) }
        }
        switch key {
        case .sgtin(let gtin, let serial): try addRing(gtin, serial)
        case .gcn:
            add(key)
            if let c = try record(CrabKeys.object(key)), let gtin = c.str("gtin") {
                if let b = c.str("box") { add(.sscc(b)) }
                for s in (c["rings"]?.arrayValue ?? []).compactMap(\.stringValue) { try addRing(gtin, s) }
            }
        case .sscc:
            add(key)
            if let b = try record(CrabKeys.object(key)), let gtin = b.str("gtin") {
                if let gcn = b.str("coupon") { add(.gcn(gcn)) }
                for s in (b["rings"]?.arrayValue ?? []).compactMap(\.stringValue) { try addRing(gtin, s) }
            }
        case .lot, .gln: add(key)
        }
        var entries: [HistoryEntry] = []
        for o in objects { entries += try history(o) }
        entries.sort { ($0.height, $0.time, $0.txid, $0.object, $0.seq) < ($1.height, $1.time, $1.txid, $1.object, $1.seq) }
        return AccountabilityTrace(
            object: key.canonical, objects: objects, entries: entries, accountable: accountable(entries), legs: legs(entries))
    }

    /// The shipments of boxes among `entries` (in chain order): each `ship` opens a leg of its box,
    /// the carrier's `hand_over` and the `receive` close it.
    func legs(_ entries: [HistoryEntry]) -> [CustodyLeg] {
        var out: [CustodyLeg] = []
        var open: [String: Int] = [:]
        for e in entries where e.object.hasPrefix("00/") {
            let sscc = String(e.object.dropFirst(3))
            switch e.step {
            case "ship":
                open[sscc] = out.count
                out.append(
                    CustodyLeg(
                        sscc: sscc, from: e.data.str("from") ?? e.signer.org, to: e.data.str("to") ?? "",
                        carrier: e.data.str("carrier"), shippedBy: e.signer))
            case "hand_over":
                if let i = open[sscc] { out[i].handedOverBy = e.signer }
            case "receive":
                guard let i = open.removeValue(forKey: sscc) else { continue }
                if out[i].to == CrabTraceContract.consumerDestination {
                    out[i].handedOverBy = e.signer
                } else {
                    out[i].receivedBy = e.signer
                }
            default: break
            }
        }
        return out
    }

    /// The parties invariant 6 names: the farm that tagged, the lab that inspected, the merchant that
    /// issued (and redeemed) the coupon or held the crabs, logistics that carried the boxes (each
    /// `ship`, `hand_over` and delivery), and the consumer when known: by the consumer's own signed
    /// steps (booking, gift transfer, scan with the secret, complaint) or, unsigned by them, by the
    /// merchant's sale to a holder and the carrier's delivery to the consumer.
    func accountable(_ entries: [HistoryEntry]) -> [AccountableParty] {
        var out: [AccountableParty] = []
        var seen = Set<String>()
        func add(_ party: String, _ e: HistoryEntry, holder: String? = nil) {
            guard seen.insert("\(party)|\(e.signer.org)|\(e.signer.subject)|\(e.step)|\(holder ?? "")").inserted else { return }
            out.append(
                AccountableParty(
                    party: party, signer: e.signer, step: e.step, txid: e.txid, height: e.height, time: e.time,
                    holderHash: holder))
        }
        for e in entries {
            switch (e.step, e.signer.role) {
            case ("tag_harvest", "farm"): add("farm", e)
            case ("inspect_lot", "lab"): add("lab", e)
            case ("issue_coupons", "merchant"), ("redeem", "merchant"): add("merchant", e)
            case ("sell_coupon", "merchant"):
                add("merchant", e)
                if let holder = e.data.str("holderHash") { add("consumer", e, holder: holder) }
            case ("transfer_coupon", "merchant"):
                add("merchant", e)
                add("consumer", e, holder: e.data.str("holderHash"))
            case ("pack_box", "merchant"), ("ship", "merchant"), ("receive", "merchant"): add("merchant", e)
            case ("receive", "logistics") where e.data.str("to") == CrabTraceContract.consumerDestination:
                add("logistics", e)
                add("consumer", e)
            case (_, "logistics"): add("logistics", e)
            case ("book_redemption", _), ("complain", _), ("scan", _): add("consumer", e)
            case ("transfer_coupon", _): add("consumer", e, holder: e.data.str("holderHash"))
            default: break
            }
        }
        return out
    }
}
