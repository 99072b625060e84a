// 三资监管: supervision of a village collective's funds (资金), assets (资产) and resources (资源).
//
// Roles (the signer's role and org come from the host):
//   regulator  the district's supervisor (农业农村局): sets the rules, registers villages, sees all
//   township   the township's rural economic station (农经站): reviews its villages' spending and
//              disposals, checks overdue rents, resolves alerts
//   village    a village collective's clerk (村集体经济组织报账员); the village is the signer's org
//
// Rules are refused when broken; alerts are recorded (and emitted), never refused. ABI and method
// reference: contracts/sanzi/README.md.

let village = "village"
let township = "township"
let regulator = "regulator"

// MARK: - Keys

func villageKey(_ v: String) -> String { "village/" + v }
func vkey(_ v: String, _ kind: String, _ id: String) -> String { "v/" + v + "/" + kind + "/" + id }
func vprefix(_ v: String, _ kind: String) -> String { "v/" + v + "/" + kind + "/" }

// MARK: - Rules

let defaultMaxTerms: [(String, Int64)] = [
    ("land", 360), ("pond", 240), ("forest", 600), ("water", 240), ("building", 240), ("equipment", 240),
    ("facility", 240), ("other", 240),
]
let itemCategories = ["land", "pond", "forest", "water", "building", "equipment", "facility", "other"]
let resourceCategories = ["land", "pond", "forest", "water"]

func defaultRules() -> JSON {
    var terms: [JSONMember] = []
    for (c, m) in defaultMaxTerms { terms.append(JSONMember(c, .int(m))) }
    return obj(
        ("approvalThresholdFen", .int(5_000_000)), ("minPriceRatioPct", .int(100)), ("graceDays", .int(30)),
        ("maxTermMonths", .object(terms)))
}

func rules() throws(XCError) -> JSON { try load("rules") ?? defaultRules() }

func setRules(_ call: Call) throws(XCError) -> JSON {
    try XC.requireRole(regulator, for: "setRules")
    let args = try Args(call.args, allowed: ["approvalThresholdFen", "minPriceRatioPct", "graceDays", "maxTermMonths"])
    var r = try rules()
    if let v = try args.optionalInt("approvalThresholdFen", in: 0...maxAmount) { r = r.setting("approvalThresholdFen", .int(v)) }
    if let v = try args.optionalInt("minPriceRatioPct", in: 0...1000) { r = r.setting("minPriceRatioPct", .int(v)) }
    if let v = try args.optionalInt("graceDays", in: 0...365) { r = r.setting("graceDays", .int(v)) }
    if let terms = args["maxTermMonths"] {
        guard let members = terms.members else { throw XCError("bad_args", "\"maxTermMonths\" must be an object") }
        var merged = r["maxTermMonths"] ?? .object([])
        for m in members {
            guard contains(itemCategories, m.key), let months = m.value.int, months > 0, months <= 1200 else {
                throw XCError("bad_args", "\"maxTermMonths\" maps a category to 1...1200 months")
            }
            merged = merged.setting(m.key, .int(months))
        }
        r = r.setting("maxTermMonths", merged)
    }
    XC.putJSON("rules", r)
    XC.emit("rules_set", r)
    return r
}

func contains(_ list: [String], _ s: String) -> Bool {
    for x in list where x == s { return true }
    return false
}

// MARK: - Villages

func registerVillage(_ call: Call) throws(XCError) -> JSON {
    try XC.requireRole(regulator, for: "registerVillage")
    let args = try Args(call.args, allowed: ["village", "name", "township", "openingBalanceFen"])
    let v = try id(args, "village")
    let t = try id(args, "township")
    let name = try args.string("name", maxLength: 128)
    let opening = try args.optionalInt("openingBalanceFen", in: 0...maxAmount) ?? 0
    if exists(villageKey(v)) { throw XCError("already_exists", "village \(v) is already registered") }
    let record = obj(
        ("village", .string(v)), ("name", .string(name)), ("township", .string(t)), ("registered", .int(today())))
    XC.putJSON(villageKey(v), record)
    XC.put("township/" + t + "/" + v, [0x31])
    XC.putJSON("v/" + v + "/funds", obj(("openingFen", .int(opening)), ("incomeFen", .int(0)), ("spendingFen", .int(0))))
    XC.emit("village_registered", record)
    return record
}

/// The signer's own village (role `village`, org = village id).
func ownVillage(_ step: String) throws(XCError) -> (id: String, record: JSON) {
    try XC.requireRole(village, for: step)
    let org = XC.signerOrg()
    guard let record = try load(villageKey(org)) else {
        throw XCError("unknown_village", "org \(org) is not a registered village")
    }
    return (org, record)
}

/// A village the signer (role `township`) reviews.
func reviewedVillage(_ v: String, _ step: String) throws(XCError) -> JSON {
    try XC.requireRole(township, for: step)
    let record = try mustLoad(villageKey(v), "village \(v)")
    let org = XC.signerOrg()
    guard str(record, "township") == org else {
        throw XCError("not_reviewer", "\(org) does not review village \(v)")
    }
    return record
}

// MARK: - Alerts and books

/// Records an alert for village `v` (kept open until a reviewer resolves it) and emits it.
@discardableResult
func raiseAlert(_ v: String, _ villageRecord: JSON, kind: String, ref: String, detail: String) throws(XCError) -> JSON {
    let seqKey = "v/" + v + "/alertseq"
    let seq = (try load(seqKey)?.int ?? 0) + 1
    XC.putJSON(seqKey, .int(seq))
    let seqText = padded(seq, width: 8)
    let alert = obj(
        ("seq", .int(seq)), ("village", .string(v)), ("kind", .string(kind)), ("ref", .string(ref)),
        ("detail", .string(detail)), ("date", .int(today())), ("tx", .string(XC.txID())), ("status", .string("open")))
    XC.putJSON(vkey(v, "alert", seqText), alert)
    XC.put("open/" + str(villageRecord, "township") + "/" + v + "/" + seqText, [0x31])
    XC.emit("alert", alert)
    return alert
}

/// Adds income or spending to the month of `date` and to the village's fund totals.
func book(_ v: String, income: Int64, spending: Int64, date: Int64) throws(XCError) {
    let month = date / 100
    let key = vkey(v, "month", padded(month, width: 6))
    let current = try load(key) ?? obj(("month", .int(month)), ("incomeFen", .int(0)), ("spendingFen", .int(0)))
    XC.putJSON(
        key,
        current.setting("incomeFen", .int(try checkedAdd(int(current, "incomeFen"), income)))
            .setting("spendingFen", .int(try checkedAdd(int(current, "spendingFen"), spending))))
    let fundsKey = "v/" + v + "/funds"
    let funds = try load(fundsKey) ?? obj(("openingFen", .int(0)), ("incomeFen", .int(0)), ("spendingFen", .int(0)))
    XC.putJSON(
        fundsKey,
        funds.setting("incomeFen", .int(try checkedAdd(int(funds, "incomeFen"), income)))
            .setting("spendingFen", .int(try checkedAdd(int(funds, "spendingFen"), spending))))
}

func requireNew(_ key: String, _ what: String) throws(XCError) {
    if exists(key) { throw XCError("already_exists", "\(what) already exists") }
}

// MARK: - Registers

func registerItem(_ call: Call) throws(XCError) -> JSON {
    let (v, _) = try ownVillage("registerItem")
    let args = try Args(
        call.args,
        allowed: ["id", "category", "name", "areaCentiMu", "valueFen", "refAnnualRentFen", "location", "acquired"])
    let itemID = try id(args, "id")
    let category = try oneOf(args, "category", itemCategories)
    let kind = contains(resourceCategories, category) ? "resource" : "asset"
    let key = vkey(v, "item", itemID)
    try requireNew(key, "item \(itemID)")
    var record = obj(
        ("id", .string(itemID)), ("kind", .string(kind)), ("category", .string(category)),
        ("name", .string(try args.string("name", maxLength: 128))), ("status", .string("active")),
        ("registered", .int(today())))
    if let area = try args.optionalInt("areaCentiMu", in: 1...100_000_000) { record = record.setting("areaCentiMu", .int(area)) }
    if let value = try args.optionalInt("valueFen", in: 0...maxAmount) { record = record.setting("valueFen", .int(value)) }
    if let rent = try args.optionalInt("refAnnualRentFen", in: 0...maxAmount) {
        record = record.setting("refAnnualRentFen", .int(rent))
    }
    if let location = try args.optionalString("location", maxLength: 256) { record = record.setting("location", .string(location)) }
    if let acquired = try date(args, "acquired") { record = record.setting("acquired", .int(acquired)) }
    if kind == "resource", record["areaCentiMu"] == nil {
        throw XCError("bad_args", "a resource needs \"areaCentiMu\" (area in 0.01 mu)")
    }
    XC.putJSON(key, record)
    XC.emit("item_registered", record.setting("village", .string(v)))
    return record
}

// MARK: - Bidding and leases

func recordBidding(_ call: Call) throws(XCError) -> JSON {
    let (v, _) = try ownVillage("recordBidding")
    let args = try Args(call.args, allowed: ["id", "item", "referencePriceFen", "noticeHash", "bids", "date"])
    let bidID = try id(args, "id")
    let itemID = try id(args, "item")
    let key = vkey(v, "bid", bidID)
    try requireNew(key, "bidding \(bidID)")
    let item = try mustLoad(vkey(v, "item", itemID), "item \(itemID)")
    guard str(item, "kind") == "resource" else { throw XCError("bad_state", "only resources are leased by bidding") }
    guard str(item, "status") != "disposed" else { throw XCError("bad_state", "item \(itemID) has been disposed of") }
    let reference = try args.int("referencePriceFen", in: 0...maxAmount)
    let notice = try args.string("noticeHash", maxLength: 64)
    try checkHash(notice, "noticeHash")
    guard let bids = args["bids"]?.array, !bids.isEmpty, bids.count <= 100 else {
        throw XCError("bad_args", "\"bids\" must list 1-100 bids")
    }
    var list: [JSON] = []
    var winner = ""
    var best: Int64 = -1
    for bid in bids {
        guard let bidder = bid["bidder"]?.string, !bidder.isEmpty, bidder.utf8.count <= 128, let price = bid["priceFen"]?.int,
            amountRange.contains(price)
        else {
            throw XCError("bad_args", "each bid needs \"bidder\" and \"priceFen\"")
        }
        list.append(obj(("bidder", .string(bidder)), ("priceFen", .int(price))))
        if price > best {
            best = price
            winner = bidder
        }
    }
    let record = obj(
        ("id", .string(bidID)), ("item", .string(itemID)), ("referencePriceFen", .int(reference)),
        ("noticeHash", .string(notice)), ("bids", .array(list)), ("winner", .string(winner)),
        ("winningPriceFen", .int(best)), ("date", .int(try date(args, "date") ?? today())))
    XC.putJSON(key, record)
    XC.emit("bidding_recorded", record.setting("village", .string(v)))
    return record
}

/// The installments of a lease: yearly on the start date's anniversary (the last one pro rata), or
/// everything at the start.
func installments(annual: Int64, start: Int64, termMonths: Int64, once: Bool) throws(XCError) -> [JSON] {
    if once {
        let total = try checkedMul(annual, termMonths) / 12
        return [obj(("due", .int(start)), ("amountFen", .int(total)), ("paidFen", .int(0)))]
    }
    var list: [JSON] = []
    var month: Int64 = 0
    while month < termMonths {
        let months = min(12, termMonths - month)
        let amount = try checkedMul(annual, months) / 12
        list.append(obj(("due", .int(addMonths(start, month))), ("amountFen", .int(amount)), ("paidFen", .int(0))))
        month += 12
    }
    return list
}

func signLease(_ call: Call) throws(XCError) -> JSON {
    let (v, villageRecord) = try ownVillage("signLease")
    let args = try Args(
        call.args,
        allowed: [
            "id", "item", "tenant", "tenantOrg", "annualRentFen", "startDate", "termMonths", "noticeHash", "bidding", "payment",
        ])
    let leaseID = try id(args, "id")
    let itemID = try id(args, "item")
    let key = vkey(v, "lease", leaseID)
    try requireNew(key, "lease \(leaseID)")
    let itemKey = vkey(v, "item", itemID)
    let item = try mustLoad(itemKey, "item \(itemID)")
    guard str(item, "status") == "active" else {
        throw XCError("bad_state", "item \(itemID) is \(str(item, "status")), not available for lease")
    }
    let tenant = try args.string("tenant", maxLength: 128)
    let tenantOrg = try args.optionalString("tenantOrg", maxLength: 64)
    if let tenantOrg { try checkTenantOrg(tenantOrg, category: str(item, "category")) }
    let annual = try args.int("annualRentFen", in: amountRange)
    guard let start = try date(args, "startDate") else { throw XCError("bad_args", "\"startDate\" is required") }
    let term = try args.int("termMonths", in: 1...1200)
    // Public notice before the contract takes effect (公示).
    let notice = try args.string("noticeHash", maxLength: 64)
    try checkHash(notice, "noticeHash")
    let once = try oneOf(args, "payment", ["annual", "once"], default: "annual") == "once"
    let plan = try installments(annual: annual, start: start, termMonths: term, once: once)
    var total: Int64 = 0
    for i in plan { total = try checkedAdd(total, int(i, "amountFen")) }
    var record = obj(
        ("id", .string(leaseID)), ("item", .string(itemID)), ("category", .string(str(item, "category"))),
        ("tenant", .string(tenant)), ("annualRentFen", .int(annual)), ("startDate", .int(start)),
        ("termMonths", .int(term)), ("endDate", .int(addMonths(start, term))), ("noticeHash", .string(notice)),
        ("payment", .string(once ? "once" : "annual")), ("installments", .array(plan)), ("totalFen", .int(total)),
        ("paidFen", .int(0)), ("status", .string("active")), ("signed", .int(today())))
    if let tenantOrg { record = record.setting("tenantOrg", .string(tenantOrg)) }

    // Alerts: bidding, reference price, legal term.
    let r = try rules()
    var reference = item["refAnnualRentFen"]?.int
    var alerts: [JSON] = []
    if let biddingID = try args.optionalString("bidding", maxLength: 64) {
        try checkID(biddingID, "bidding")
        record = record.setting("bidding", .string(biddingID))
        if let bid = try load(vkey(v, "bid", biddingID)), str(bid, "item") == itemID {
            reference = bid["referencePriceFen"]?.int ?? reference
            if str(bid, "winner") != tenant || int(bid, "winningPriceFen") > annual {
                alerts.append(
                    try raiseAlert(
                        v, villageRecord, kind: "lease_not_winning_bid", ref: "lease/" + leaseID,
                        detail: "tenant or rent differs from bidding \(biddingID)'s winner \(str(bid, "winner")) at \(int(bid, "winningPriceFen")) fen"))
            }
        } else {
            alerts.append(
                try raiseAlert(
                    v, villageRecord, kind: "lease_without_bidding", ref: "lease/" + leaseID,
                    detail: "bidding \(biddingID) does not exist for item \(itemID)"))
        }
    } else {
        alerts.append(
            try raiseAlert(
                v, villageRecord, kind: "lease_without_bidding", ref: "lease/" + leaseID,
                detail: "no open bidding recorded for the lease of item \(itemID)"))
    }
    if let reference {
        let floor = try checkedMul(reference, int(r, "minPriceRatioPct"))
        if try checkedMul(annual, 100) < floor {
            alerts.append(
                try raiseAlert(
                    v, villageRecord, kind: "lease_below_reference", ref: "lease/" + leaseID,
                    detail: "annual rent \(annual) fen is below \(int(r, "minPriceRatioPct"))% of the reference \(reference) fen"))
        }
    }
    let maxTerm = r["maxTermMonths"]?[str(item, "category")]?.int ?? 240
    if term > maxTerm {
        alerts.append(
            try raiseAlert(
                v, villageRecord, kind: "term_exceeds_legal_max", ref: "lease/" + leaseID,
                detail: "term of \(term) months exceeds the legal maximum of \(maxTerm) months for \(str(item, "category"))"))
    }
    XC.putJSON(key, record)
    XC.putJSON(itemKey, item.setting("status", .string("leased")).setting("lease", .string(leaseID)))
    XC.emit("lease_signed", obj(("village", .string(v)), ("lease", .string(leaseID)), ("item", .string(itemID))))
    return record.setting("alerts", .array(alerts))
}

/// A tenant named by its org on the chain must be a registered, active crab member (the crab
/// contract's `member` query, as of this transaction); a pond's tenant must be a crab farm.
func checkTenantOrg(_ org: String, category: String) throws(XCError) {
    let member: JSON
    switch XC.query(contract: "crab", method: "member", args: obj(("org", .string(org)))) {
    case .success(let answer): member = answer
    case .failure(let error): throw error
    }
    guard case .object = member else {
        throw XCError("tenant_not_member", "\(org) is not a registered crab member")
    }
    if member["suspended"]?.bool == true {
        throw XCError("tenant_not_member", "crab member \(org) is suspended")
    }
    if category == "pond" && str(member, "role") != "farm" {
        throw XCError("tenant_not_member", "a pond's tenant must be a crab farm; \(org) is a \(str(member, "role"))")
    }
}

func recordLeasePayment(_ call: Call) throws(XCError) -> JSON {
    let (v, _) = try ownVillage("recordLeasePayment")
    let args = try Args(call.args, allowed: ["lease", "id", "amountFen", "date"])
    let leaseID = try id(args, "lease")
    let paymentID = try id(args, "id")
    let payKey = vkey(v, "receipt", paymentID)
    try requireNew(payKey, "receipt \(paymentID)")
    let leaseKey = vkey(v, "lease", leaseID)
    let lease = try mustLoad(leaseKey, "lease \(leaseID)")
    var amount = try args.int("amountFen", in: amountRange)
    let day = try date(args, "date") ?? today()
    let outstanding = int(lease, "totalFen") - int(lease, "paidFen")
    guard amount <= outstanding else {
        throw XCError("overpayment", "the payment of \(amount) fen exceeds the \(outstanding) fen outstanding on lease \(leaseID)")
    }
    let received = amount
    var plan = lease["installments"]?.array ?? []
    for i in 0..<plan.count where amount > 0 {
        let open = int(plan[i], "amountFen") - int(plan[i], "paidFen")
        if open <= 0 { continue }
        let part = min(open, amount)
        plan[i] = plan[i].setting("paidFen", .int(int(plan[i], "paidFen") + part))
        amount -= part
    }
    XC.putJSON(
        leaseKey, lease.setting("installments", .array(plan)).setting("paidFen", .int(int(lease, "paidFen") + received)))
    let receipt = obj(
        ("id", .string(paymentID)), ("lease", .string(leaseID)), ("amountFen", .int(received)), ("date", .int(day)),
        ("payer", .string(str(lease, "tenant"))))
    XC.putJSON(payKey, receipt)
    try book(v, income: received, spending: 0, date: day)
    XC.emit("rent_received", receipt.setting("village", .string(v)))
    return receipt
}

/// Raises an alert for every lease installment past due (plus the grace period) and unpaid, once
/// per installment; ends leases past their end date that are paid in full.
func checkOverdue(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village"])
    let role = XC.signerRole()
    let v: String
    let villageRecord: JSON
    if role == village {
        (v, villageRecord) = try ownVillage("checkOverdue")
    } else if role == township {
        v = try id(args, "village")
        villageRecord = try reviewedVillage(v, "checkOverdue")
    } else {
        try XC.requireRole(regulator, township, village, for: "checkOverdue")
        v = try id(args, "village")
        villageRecord = try mustLoad(villageKey(v), "village \(v)")
    }
    let now = today()
    let grace = int(try rules(), "graceDays")
    var raised: [JSON] = []
    var ended: [JSON] = []
    let entries = XC.scan(prefix: vprefix(v, "lease"), limit: 500)
    for var lease in try values(entries) where str(lease, "status") == "active" {
        var plan = lease["installments"]?.array ?? []
        var changed = false
        for i in 0..<plan.count {
            let unpaid = int(plan[i], "amountFen") - int(plan[i], "paidFen")
            if unpaid > 0, plan[i]["overdueAlerted"] == nil, addDays(int(plan[i], "due"), grace) < now {
                raised.append(
                    try raiseAlert(
                        v, villageRecord, kind: "lease_payment_overdue", ref: "lease/" + str(lease, "id"),
                        detail: "\(unpaid) fen due \(int(plan[i], "due")) is unpaid"))
                plan[i] = plan[i].setting("overdueAlerted", .bool(true))
                changed = true
            }
        }
        if changed { lease = lease.setting("installments", .array(plan)) }
        if int(lease, "endDate") <= now, int(lease, "paidFen") >= int(lease, "totalFen") {
            lease = lease.setting("status", .string("ended"))
            let itemKey = vkey(v, "item", str(lease, "item"))
            if let item = try load(itemKey), str(item, "lease") == str(lease, "id") {
                XC.putJSON(itemKey, item.setting("status", .string("active")).setting("lease", .null))
            }
            ended.append(.string(str(lease, "id")))
            changed = true
        }
        if changed { XC.putJSON(vkey(v, "lease", str(lease, "id")), lease) }
    }
    return obj(("alerts", .array(raised)), ("ended", .array(ended)))
}

// MARK: - Spending

func requestSpending(_ call: Call) throws(XCError) -> JSON {
    let (v, villageRecord) = try ownVillage("requestSpending")
    let args = try Args(call.args, allowed: ["id", "amountFen", "payee", "purpose", "meetingHash", "noticeHash"])
    let spendID = try id(args, "id")
    let key = vkey(v, "spend", spendID)
    try requireNew(key, "spending \(spendID)")
    let amount = try args.int("amountFen", in: amountRange)
    let threshold = int(try rules(), "approvalThresholdFen")
    var record = obj(
        ("id", .string(spendID)), ("amountFen", .int(amount)), ("payee", .string(try args.string("payee", maxLength: 128))),
        ("purpose", .string(try args.string("purpose", maxLength: 512))), ("requested", .int(today())),
        ("paidFen", .int(0)))
    let meeting = try args.optionalString("meetingHash", maxLength: 64)
    let notice = try args.optionalString("noticeHash", maxLength: 64)
    if let meeting {
        try checkHash(meeting, "meetingHash")
        record = record.setting("meetingHash", .string(meeting))
    }
    if let notice {
        try checkHash(notice, "noticeHash")
        record = record.setting("noticeHash", .string(notice))
    }
    if amount >= threshold {
        // 四议两公开: the village's decision (meeting record) and its public notice come first.
        guard meeting != nil, notice != nil else {
            throw XCError(
                "decision_required",
                "spending of \(amount) fen (threshold \(threshold)) needs the meeting record hash and the public notice hash")
        }
        record = record.setting("status", .string("pending")).setting("approvedFen", .int(0))
        XC.put("queue/" + str(villageRecord, "township") + "/" + v + "/spend/" + spendID, [0x31])
    } else {
        record = record.setting("status", .string("approved")).setting("approvedFen", .int(amount))
            .setting("reviewer", .string("below threshold"))
    }
    XC.putJSON(key, record)
    XC.emit("spending_requested", record.setting("village", .string(v)))
    return record
}

func reviewSpending(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village", "id", "approve", "approvedFen", "comment"])
    let v = try id(args, "village")
    let villageRecord = try reviewedVillage(v, "reviewSpending")
    let spendID = try id(args, "id")
    let key = vkey(v, "spend", spendID)
    var record = try mustLoad(key, "spending \(spendID)")
    guard str(record, "status") == "pending" else {
        throw XCError("bad_state", "spending \(spendID) is \(str(record, "status")), not pending review")
    }
    let approve = try args.bool("approve")
    let requested = int(record, "amountFen")
    let approved = approve ? (try args.optionalInt("approvedFen", in: amountRange) ?? requested) : 0
    guard approved <= requested else {
        throw XCError("bad_args", "the approved amount cannot exceed the \(requested) fen requested")
    }
    record = record.setting("status", .string(approve ? "approved" : "rejected")).setting("approvedFen", .int(approved))
        .setting("reviewer", .string(XC.signerOrg())).setting("reviewed", .int(today()))
    if let comment = try args.optionalString("comment", maxLength: 512) { record = record.setting("comment", .string(comment)) }
    XC.putJSON(key, record)
    XC.delete("queue/" + str(villageRecord, "township") + "/" + v + "/spend/" + spendID)
    XC.emit("spending_reviewed", record.setting("village", .string(v)))
    return record
}

/// A payment order through the platform: refused unless approved and within the approval.
func pay(_ call: Call) throws(XCError) -> JSON {
    let (v, _) = try ownVillage("pay")
    let args = try Args(call.args, allowed: ["id", "spending", "amountFen", "date"])
    let paymentID = try id(args, "id")
    let payKey = vkey(v, "pay", paymentID)
    try requireNew(payKey, "payment \(paymentID)")
    let spendID = try id(args, "spending")
    let spendKey = vkey(v, "spend", spendID)
    let spending = try mustLoad(spendKey, "spending \(spendID)")
    let amount = try args.int("amountFen", in: amountRange)
    guard str(spending, "status") == "approved" else {
        throw XCError("not_approved", "spending \(spendID) is \(str(spending, "status")); it must be approved before payment")
    }
    let paid = try checkedAdd(int(spending, "paidFen"), amount)
    guard paid <= int(spending, "approvedFen") else {
        throw XCError(
            "exceeds_approval",
            "paying \(amount) fen would bring spending \(spendID) to \(paid) fen, above the \(int(spending, "approvedFen")) fen approved")
    }
    let day = try date(args, "date") ?? today()
    let record = obj(
        ("id", .string(paymentID)), ("spending", .string(spendID)), ("amountFen", .int(amount)),
        ("payee", .string(str(spending, "payee"))), ("purpose", .string(str(spending, "purpose"))), ("date", .int(day)),
        ("channel", .string("platform")))
    XC.putJSON(payKey, record)
    XC.putJSON(spendKey, spending.setting("paidFen", .int(paid)))
    try book(v, income: 0, spending: amount, date: day)
    XC.emit("paid", record.setting("village", .string(v)))
    return record
}

/// Books an expense paid outside the platform (cash, a direct transfer): always recorded, with an
/// alert when it lacks an approval or goes beyond it.
func recordExpense(_ call: Call) throws(XCError) -> JSON {
    let (v, villageRecord) = try ownVillage("recordExpense")
    let args = try Args(call.args, allowed: ["id", "spending", "amountFen", "payee", "purpose", "date"])
    let paymentID = try id(args, "id")
    let payKey = vkey(v, "pay", paymentID)
    try requireNew(payKey, "payment \(paymentID)")
    let amount = try args.int("amountFen", in: amountRange)
    let day = try date(args, "date") ?? today()
    var record = obj(
        ("id", .string(paymentID)), ("amountFen", .int(amount)), ("payee", .string(try args.string("payee", maxLength: 128))),
        ("purpose", .string(try args.string("purpose", maxLength: 512))), ("date", .int(day)), ("channel", .string("booked")))
    var alerts: [JSON] = []
    let ref = "pay/" + paymentID
    if let spendID = try args.optionalString("spending", maxLength: 64) {
        try checkID(spendID, "spending")
        record = record.setting("spending", .string(spendID))
        let spendKey = vkey(v, "spend", spendID)
        if let spending = try load(spendKey) {
            let paid = try checkedAdd(int(spending, "paidFen"), amount)
            XC.putJSON(spendKey, spending.setting("paidFen", .int(paid)))
            if str(spending, "status") != "approved" {
                alerts.append(
                    try raiseAlert(
                        v, villageRecord, kind: "payment_without_approval", ref: ref,
                        detail: "\(amount) fen paid against spending \(spendID), which is \(str(spending, "status"))"))
            } else if paid > int(spending, "approvedFen") {
                alerts.append(
                    try raiseAlert(
                        v, villageRecord, kind: "payment_exceeds_approval", ref: ref,
                        detail: "spending \(spendID) has now been paid \(paid) fen, above the \(int(spending, "approvedFen")) fen approved"))
            }
        } else {
            alerts.append(
                try raiseAlert(
                    v, villageRecord, kind: "payment_without_approval", ref: ref,
                    detail: "\(amount) fen paid against spending \(spendID), which does not exist"))
        }
    } else if amount >= int(try rules(), "approvalThresholdFen") {
        alerts.append(
            try raiseAlert(
                v, villageRecord, kind: "payment_without_approval", ref: ref,
                detail: "\(amount) fen paid without an approved spending request"))
    }
    XC.putJSON(payKey, record)
    try book(v, income: 0, spending: amount, date: day)
    XC.emit("expense_booked", record.setting("village", .string(v)))
    return record.setting("alerts", .array(alerts))
}

// MARK: - Disposals

func requestDisposal(_ call: Call) throws(XCError) -> JSON {
    let (v, villageRecord) = try ownVillage("requestDisposal")
    let args = try Args(call.args, allowed: ["id", "item", "method", "expectedPriceFen", "meetingHash", "noticeHash"])
    let dispID = try id(args, "id")
    let key = vkey(v, "disposal", dispID)
    try requireNew(key, "disposal \(dispID)")
    let itemID = try id(args, "item")
    let item = try mustLoad(vkey(v, "item", itemID), "item \(itemID)")
    guard str(item, "status") == "active" else {
        throw XCError("bad_state", "item \(itemID) is \(str(item, "status")); only an active, unleased item can be disposed of")
    }
    let method = try oneOf(args, "method", ["sale", "scrap", "transfer"])
    guard let meeting = try args.optionalString("meetingHash", maxLength: 64),
        let notice = try args.optionalString("noticeHash", maxLength: 64)
    else {
        throw XCError("decision_required", "a disposal needs the meeting record hash and the public notice hash")
    }
    try checkHash(meeting, "meetingHash")
    try checkHash(notice, "noticeHash")
    var record = obj(
        ("id", .string(dispID)), ("item", .string(itemID)), ("method", .string(method)), ("meetingHash", .string(meeting)),
        ("noticeHash", .string(notice)), ("status", .string("pending")), ("requested", .int(today())))
    if let price = try args.optionalInt("expectedPriceFen", in: 0...maxAmount) {
        record = record.setting("expectedPriceFen", .int(price))
    }
    XC.putJSON(key, record)
    XC.put("queue/" + str(villageRecord, "township") + "/" + v + "/disposal/" + dispID, [0x31])
    XC.emit("disposal_requested", record.setting("village", .string(v)))
    return record
}

func reviewDisposal(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village", "id", "approve", "comment"])
    let v = try id(args, "village")
    let villageRecord = try reviewedVillage(v, "reviewDisposal")
    let dispID = try id(args, "id")
    let key = vkey(v, "disposal", dispID)
    var record = try mustLoad(key, "disposal \(dispID)")
    guard str(record, "status") == "pending" else {
        throw XCError("bad_state", "disposal \(dispID) is \(str(record, "status")), not pending review")
    }
    let approve = try args.bool("approve")
    record = record.setting("status", .string(approve ? "approved" : "rejected")).setting("reviewer", .string(XC.signerOrg()))
        .setting("reviewed", .int(today()))
    if let comment = try args.optionalString("comment", maxLength: 512) { record = record.setting("comment", .string(comment)) }
    XC.putJSON(key, record)
    XC.delete("queue/" + str(villageRecord, "township") + "/" + v + "/disposal/" + dispID)
    XC.emit("disposal_reviewed", record.setting("village", .string(v)))
    return record
}

func completeDisposal(_ call: Call) throws(XCError) -> JSON {
    let (v, _) = try ownVillage("completeDisposal")
    let args = try Args(call.args, allowed: ["id", "priceFen", "date"])
    let dispID = try id(args, "id")
    let key = vkey(v, "disposal", dispID)
    var record = try mustLoad(key, "disposal \(dispID)")
    guard str(record, "status") == "approved" else {
        throw XCError("not_approved", "disposal \(dispID) is \(str(record, "status")); it needs the township's approval")
    }
    let itemKey = vkey(v, "item", str(record, "item"))
    let item = try mustLoad(itemKey, "item \(str(record, "item"))")
    guard str(item, "status") == "active" else { throw XCError("bad_state", "the item is \(str(item, "status"))") }
    let day = try date(args, "date") ?? today()
    let price = try args.optionalInt("priceFen", in: 0...maxAmount) ?? 0
    if price > 0 && str(record, "method") != "sale" {
        throw XCError("bad_args", "only a sale has a price")
    }
    record = record.setting("status", .string("done")).setting("priceFen", .int(price)).setting("completed", .int(day))
    XC.putJSON(key, record)
    XC.putJSON(itemKey, item.setting("status", .string("disposed")).setting("disposal", .string(dispID)))
    if price > 0 { try book(v, income: price, spending: 0, date: day) }
    XC.emit("disposal_completed", record.setting("village", .string(v)))
    return record
}

// MARK: - Alerts

func resolveAlert(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village", "seq", "note"])
    let v = try id(args, "village")
    let villageRecord: JSON
    if XC.signerRole() == regulator {
        villageRecord = try mustLoad(villageKey(v), "village \(v)")
    } else {
        villageRecord = try reviewedVillage(v, "resolveAlert")
    }
    let seq = try args.int("seq", in: 1...99_999_999)
    let seqText = padded(seq, width: 8)
    let key = vkey(v, "alert", seqText)
    var alert = try mustLoad(key, "alert \(seq)")
    guard str(alert, "status") == "open" else { throw XCError("bad_state", "alert \(seq) is already resolved") }
    alert = alert.setting("status", .string("resolved")).setting("resolvedBy", .string(XC.signerOrg()))
        .setting("note", .string(try args.string("note", maxLength: 512))).setting("resolved", .int(today()))
    XC.putJSON(key, alert)
    XC.delete("open/" + str(villageRecord, "township") + "/" + v + "/" + seqText)
    XC.emit("alert_resolved", alert)
    return alert
}

// MARK: - Queries (read-only)

/// What a village discloses to its members (村务公开): registers, contracts, spending, disposals,
/// income and spending by month, and alerts. Anyone may ask.
func disclosure(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village", "fromMonth", "toMonth"])
    let v = try id(args, "village")
    let record = try mustLoad(villageKey(v), "village \(v)")
    let from = try args.optionalInt("fromMonth", in: 194_901...220_012) ?? 0
    let to = try args.optionalInt("toMonth", in: 194_901...220_012) ?? 999_999
    let funds = try load("v/" + v + "/funds") ?? .null
    let balance = int(funds, "openingFen") + int(funds, "incomeFen") - int(funds, "spendingFen")
    var leases: [JSON] = []
    for lease in try values(XC.scan(prefix: vprefix(v, "lease"), limit: 500)) {
        leases.append(
            obj(
                ("id", .string(str(lease, "id"))), ("item", .string(str(lease, "item"))), ("tenant", .string(str(lease, "tenant"))),
                ("annualRentFen", .int(int(lease, "annualRentFen"))), ("startDate", .int(int(lease, "startDate"))),
                ("endDate", .int(int(lease, "endDate"))), ("totalFen", .int(int(lease, "totalFen"))),
                ("paidFen", .int(int(lease, "paidFen"))), ("status", .string(str(lease, "status"))),
                ("bidding", lease["bidding"] ?? .null), ("noticeHash", .string(str(lease, "noticeHash")))))
    }
    var months: [JSON] = []
    for m in try values(XC.scan(prefix: vprefix(v, "month"), limit: 600)) where int(m, "month") >= from && int(m, "month") <= to {
        months.append(m)
    }
    return obj(
        ("village", record),
        ("funds", funds.setting("balanceFen", .int(balance))),
        ("items", .array(try values(XC.scan(prefix: vprefix(v, "item"), limit: 500)))),
        ("biddings", .array(try values(XC.scan(prefix: vprefix(v, "bid"), limit: 500)))),
        ("leases", .array(leases)),
        ("spending", .array(try values(XC.scan(prefix: vprefix(v, "spend"), limit: 500)))),
        ("payments", .array(try values(XC.scan(prefix: vprefix(v, "pay"), limit: 500)))),
        ("disposals", .array(try values(XC.scan(prefix: vprefix(v, "disposal"), limit: 500)))),
        ("months", .array(months)),
        ("alerts", .array(try values(XC.scan(prefix: vprefix(v, "alert"), limit: 500)))))
}

/// A reviewer's queue: spending and disposals pending review, and open alerts, for the signer's
/// villages (role township) or every village (role regulator); optionally one village.
func reviewQueue(_ call: Call) throws(XCError) -> JSON {
    let role = try XC.requireRole(township, regulator, for: "reviewQueue")
    let args = try Args(call.args, allowed: ["village", "after", "limit"])
    var scope = role == township ? XC.signerOrg() + "/" : ""
    if let v = try args.optionalString("village", maxLength: 64) {
        try checkID(v, "village")
        let record = try mustLoad(villageKey(v), "village \(v)")
        if role == township, str(record, "township") != XC.signerOrg() {
            throw XCError("not_reviewer", "\(XC.signerOrg()) does not review village \(v)")
        }
        scope = str(record, "township") + "/" + v + "/"
    }
    let limit = Int(try args.optionalInt("limit", in: 1...500) ?? 200)
    var pending: [JSON] = []
    for entry in XC.scan(prefix: "queue/" + scope, limit: limit) {
        // queue/{township}/{village}/{spend|disposal}/{id}
        let parts = entry.key.split(separator: "/")
        guard parts.count == 5 else { continue }
        let v = String(parts[2])
        let kind = String(parts[3])
        if let record = try load(vkey(v, kind, String(parts[4]))) {
            pending.append(record.setting("village", .string(v)).setting("type", .string(kind)))
        }
    }
    var alerts: [JSON] = []
    for entry in XC.scan(prefix: "open/" + scope, limit: limit) {
        // open/{township}/{village}/{seq}
        let parts = entry.key.split(separator: "/")
        guard parts.count == 4 else { continue }
        if let alert = try load(vkey(String(parts[2]), "alert", String(parts[3]))) { alerts.append(alert) }
    }
    return obj(("pending", .array(pending)), ("alerts", .array(alerts)))
}

/// One record: kind is item, bid, lease, receipt, spend, pay, disposal or alert.
func getRecord(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village", "kind", "id"])
    let v = try id(args, "village")
    let kind = try oneOf(args, "kind", ["item", "bid", "lease", "receipt", "spend", "pay", "disposal", "alert"])
    var recordID = try id(args, "id")
    if kind == "alert", let seq = args["id"]?.string, let n = Int64(seq) { recordID = padded(n, width: 8) }
    return try mustLoad(vkey(v, kind, recordID), "\(kind) \(recordID)")
}

func getVillage(_ call: Call) throws(XCError) -> JSON {
    let args = try Args(call.args, allowed: ["village"])
    let v = try id(args, "village")
    return try mustLoad(villageKey(v), "village \(v)")
}

// MARK: - Dispatch

func dispatch(_ call: Call) throws(XCError) -> JSON {
    switch call.method {
    case "setRules": return try setRules(call)
    case "registerVillage": return try registerVillage(call)
    case "registerItem": return try registerItem(call)
    case "recordBidding": return try recordBidding(call)
    case "signLease": return try signLease(call)
    case "recordLeasePayment": return try recordLeasePayment(call)
    case "checkOverdue": return try checkOverdue(call)
    case "requestSpending": return try requestSpending(call)
    case "reviewSpending": return try reviewSpending(call)
    case "pay": return try pay(call)
    case "recordExpense": return try recordExpense(call)
    case "requestDisposal": return try requestDisposal(call)
    case "reviewDisposal": return try reviewDisposal(call)
    case "completeDisposal": return try completeDisposal(call)
    case "resolveAlert": return try resolveAlert(call)
    case "rules": return try rules()
    case "getVillage": return try getVillage(call)
    case "get": return try getRecord(call)
    case "disclosure": return try disclosure(call)
    case "reviewQueue": return try reviewQueue(call)
    default: throw XCError("unknown_method", "no method \"\(call.method)\"")
    }
}
