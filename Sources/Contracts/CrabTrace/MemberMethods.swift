import ChainCore
import Execution
import Identity

/// Membership, seasons and stock: the association's and regulator's administrative steps.
extension CrabTraceContract {
    static let maxCities = 64

    /// `register_member {org, role, name, licence, areaMu?, zone?, salesRegion?, gln?, ponds?}` (association).
    func registerMember(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(
            args, allowed: ["org", "role", "name", "licence", "areaMu", "zone", "salesRegion", "gln", "ponds"])
        let org = try a.identifier("org")
        let role = try a.choice("role", ["farm", "merchant", "lab", "logistics"])
        guard try s.record(CrabKeys.member(org)) == nil else {
            throw ChainError(.alreadyExists, "member \(org) is already registered")
        }
        var m: Record = ["org": .string(org), "role": .string(role), "registeredAt": .int(s.now), "suspended": .bool(false)]
        try fillMember(&m, a, role: role, creating: true)
        s.put(CrabKeys.member(org), m)
        try s.history(CrabKeys.memberObject(org), ["role": .string(role), "name": m["name"] ?? .null])
    }

    /// `update_member {org, name?, licence?, areaMu?, zone?, salesRegion?, gln?, ponds?}` (association); the role never changes.
    func updateMember(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(
            args, allowed: ["org", "name", "licence", "areaMu", "zone", "salesRegion", "gln", "ponds"])
        let org = try a.identifier("org")
        guard var m = try s.record(CrabKeys.member(org)), let role = m.str("role") else {
            throw ChainError(.notAMember, "\(org) is not a registered member")
        }
        try fillMember(&m, a, role: role, creating: false)
        s.put(CrabKeys.member(org), m)
        try s.history(
            CrabKeys.memberObject(org), Record(uniqueKeysWithValues: a.memberFieldsPresent.map { ($0, a[$0] ?? .null) }))
    }

    private func fillMember(_ m: inout Record, _ a: Arguments, role: String, creating: Bool) throws {
        if creating || a["name"] != nil { m["name"] = .string(try a.string("name", maxLength: 128)) }
        if creating || a["licence"] != nil { m["licence"] = .string(try a.string("licence", maxLength: 64)) }
        if let area = try a.optionalInt("areaMu", in: 1...1_000_000) { m["areaMu"] = .int(area) }
        if let zone = try a.optionalString("zone", maxLength: 64) { m["zone"] = .string(zone) }
        if a["salesRegion"] != nil, a["salesRegion"] != .null {
            m["salesRegion"] = .array(try a.stringList("salesRegion", maxItems: Self.maxCities).map { .string($0) })
        }
        if let gln = try a.optionalString("gln", maxLength: 13) { m["gln"] = .string(try GS1Key.checkedGLN(gln)) }
        if a["ponds"] != nil, a["ponds"] != .null {
            guard role == "farm" else { throw ChainError(.badArgs, "only a farm has \"ponds\"") }
            m["ponds"] = .array(try Self.ponds(a))
        }
        if role == "farm", m["areaMu"] == nil || m["zone"] == nil {
            throw ChainError(.badArgs, "a farm needs \"areaMu\" and \"zone\"")
        }
    }

    /// Most ponds of one farm.
    static let maxPonds = 32

    /// A farm's `ponds`: up to 32 `{pond, lease?}`, each pond named (1–64 characters, unique) as its
    /// harvest lots name it, and its lease a pointer to the collective's lease contract in the 三资
    /// WebAssembly contract, `{contract, village, id}` (identifiers; not checked against that
    /// contract's state, which a native contract does not read).
    static func ponds(_ a: Arguments) throws(ChainError) -> [JSONValue] {
        guard let list = a["ponds"]?.arrayValue, list.count <= maxPonds else {
            throw ChainError(.badArgs, "\"ponds\" must be an array of at most \(maxPonds) ponds")
        }
        var out: [JSONValue] = []
        var names: Set<String> = []
        for item in list {
            guard let o = item.objectValue, Set(o.keys).isSubset(of: ["pond", "lease"]), let pond = o["pond"]?.stringValue,
                !pond.isEmpty, pond.count <= 64, names.insert(pond).inserted
            else {
                throw ChainError(.badArgs, "each of \"ponds\" is {pond, lease?} with a unique pond name of 1–64 characters")
            }
            var entry: [String: JSONValue] = ["pond": .string(pond)]
            if let lease = o["lease"], lease != .null {
                guard let l = lease.objectValue, Set(l.keys) == ["contract", "village", "id"],
                    let contract = l["contract"]?.stringValue, let village = l["village"]?.stringValue,
                    let id = l["id"]?.stringValue,
                    [contract, village, id].allSatisfy({ $0.utf8.count <= 64 && Arguments.isIdentifier($0) })
                else {
                    throw ChainError(
                        .badArgs, "a pond's \"lease\" is {contract, village, id}, identifiers of at most 64 characters")
                }
                entry["lease"] = .object(["contract": .string(contract), "village": .string(village), "id": .string(id)])
            }
            out.append(.object(entry))
        }
        return out
    }

    /// `suspend_member {org, reason}` / `reinstate_member {org, reason?}` (regulator).
    func suspendMember(_ args: JSONValue, _ s: CrabStep, suspended: Bool) throws {
        let a = try Arguments(args, allowed: ["org", "reason"])
        let org = try a.identifier("org")
        let reason: String? = try suspended ? a.string("reason", maxLength: 500) : a.optionalString("reason", maxLength: 500)
        guard var m = try s.record(CrabKeys.member(org)) else {
            throw ChainError(.notAMember, "\(org) is not a registered member")
        }
        m["suspended"] = .bool(suspended)
        m["suspendedReason"] = suspended ? .string(reason ?? "") : nil
        s.put(CrabKeys.member(org), m)
        try s.history(CrabKeys.memberObject(org), ["reason": reason.map { .string($0) } ?? .null])
    }

    /// `open_season {season, opensAt, closesAt, capPerMu, couponValidityDays, sizes, maxScans, scanWindowHours,
    /// lateScanDays, shipWithinDays, breakerPercent?}` (association).
    func openSeason(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(
            args,
            allowed: [
                "season", "opensAt", "closesAt", "capPerMu", "couponValidityDays", "sizes", "maxScans", "scanWindowHours",
                "lateScanDays", "shipWithinDays", "breakerPercent",
            ])
        let season = try a.identifier("season", maxLength: 16)
        let opens = try a.int("opensAt", in: 0...Self.maxTime)
        let closes = try a.int("closesAt", in: 0...Self.maxTime)
        guard closes > opens else { throw ChainError(.badArgs, "\"closesAt\" must be after \"opensAt\"") }
        var sizes: [JSONValue] = []
        for v in try a.array("sizes", maxItems: 32) {
            guard let t = Arguments.tenths(v) else {
                throw ChainError(.badArgs, "\"sizes\" items must be liang sizes with at most one decimal, 0.1–20")
            }
            sizes.append(liangJSON(t))
        }
        guard try s.record(CrabKeys.season(season)) == nil else {
            throw ChainError(.alreadyExists, "season \(season) is already open")
        }
        let r: Record = [
            "season": .string(season), "opensAt": .int(opens), "closesAt": .int(closes),
            "capPerMu": .int(try a.int("capPerMu", in: 1...100_000)),
            "couponValidityDays": .int(try a.int("couponValidityDays", in: 1...3650)), "sizes": .array(sizes),
            "maxScans": .int(try a.int("maxScans", in: 1...1000)),
            "scanWindowHours": .int(try a.int("scanWindowHours", in: 1...8760)),
            "lateScanDays": .int(try a.int("lateScanDays", in: 0...3650)),
            "shipWithinDays": .int(try a.int("shipWithinDays", in: 1...365)),
            "breakerPercent": .int(try a.optionalInt("breakerPercent", in: 1...100) ?? 100),
        ]
        s.put(CrabKeys.season(season), r)
        try s.history(CrabKeys.seasonObject(season), r)
    }

    /// Latest accepted timestamp (year 9999), ms.
    static let maxTime: Int64 = 253_402_300_799_000
    /// One day in ms.
    static let day: Int64 = 86_400_000

    func season(_ id: String, _ s: CrabStep) throws -> Record {
        guard let r = try s.record(CrabKeys.season(id)) else {
            throw ChainError(.unknownSeason, "season \(id) has not been opened")
        }
        return r
    }

    /// `grant_quota {season, org, crabs}` (association): sets a merchant's allocated stock for the season.
    /// Lowering it below promised + delivered fails `paper_crabs`.
    func grantQuota(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["season", "org", "crabs"])
        let seasonId = try a.identifier("season", maxLength: 16)
        let org = try a.identifier("org")
        let crabs = try a.int("crabs", in: 0...1_000_000_000)
        _ = try season(seasonId, s)
        _ = try s.activeMember(org, role: .merchant, field: "org")
        var st = try s.record(CrabKeys.stock(seasonId, org)) ?? ["promised": .int(0), "delivered": .int(0)]
        let committed = st.int("promised") + st.int("delivered")
        guard crabs >= committed else {
            throw ChainError(
                .paperCrabs, "\(org) already promised or delivered \(committed) crabs; quota \(crabs) is below that")
        }
        st["granted"] = .int(crabs)
        s.put(CrabKeys.stock(seasonId, org), st)
        try s.history(CrabKeys.memberObject(org), ["season": .string(seasonId), "crabs": .int(crabs)])
    }

    /// `lift_issuance_suspension {season, org}` (association): clears the circuit breaker.
    func liftIssuanceSuspension(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["season", "org"])
        let seasonId = try a.identifier("season", maxLength: 16)
        let org = try a.identifier("org")
        guard var st = try s.record(CrabKeys.stock(seasonId, org)) else {
            throw ChainError(.noQuota, "\(org) has no quota in season \(seasonId)")
        }
        st["issuanceSuspended"] = .bool(false)
        s.put(CrabKeys.stock(seasonId, org), st)
        try s.history(CrabKeys.memberObject(org), ["season": .string(seasonId)])
    }
}

extension Arguments {
    /// Member fields present in an update, in a fixed order.
    var memberFieldsPresent: [String] {
        ["org", "name", "licence", "areaMu", "zone", "salesRegion", "gln", "ponds"].filter { self[$0] != nil }
    }
}
