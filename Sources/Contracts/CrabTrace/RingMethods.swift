import ChainCore
import Execution
import Identity

/// Rings: commissioning and allocation by the association, tagging at harvest by farms.
extension CrabTraceContract {
    /// Most rings per commissioning, allocation or tagging transaction.
    public static let maxRingsPerTx = 500

    /// `commission_rings {gtin, rings: [{serial, secretHash}]}` (association). A serial is commissioned once (`ring_reused`).
    func commissionRings(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["gtin", "rings"])
        let gtin = try a.gtin()
        var seen = Set<String>()
        for item in try a.array("rings", maxItems: Self.maxRingsPerTx) {
            let r = try Arguments(item, allowed: ["serial", "secretHash"])
            let serial = try GS1Key.checkedSerial(try r.string("serial", maxLength: GS1Key.maxSerialLength))
            let hash = try r.hash64("secretHash")
            let key = GS1Key.sgtin(gtin: gtin, serial: serial)
            guard seen.insert(serial).inserted, try s.record(CrabKeys.object(key)) == nil else {
                throw ChainError(.ringReused, "ring \(key.canonical) is already commissioned")
            }
            s.put(
                CrabKeys.object(key),
                [
                    "type": .string("ring"), "gtin": .string(gtin), "serial": .string(serial), "secretHash": .string(hash),
                    "status": .string("commissioned"), "commissionedAt": .int(s.now), "scans": .int(0),
                ])
            try s.history(key.canonical, ["gtin": .string(gtin), "serial": .string(serial)])
        }
    }

    /// `allocate_rings {org, season, gtin, serials}` (association): rings go to a farm for a season.
    func allocateRings(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["org", "season", "gtin", "serials"])
        let org = try a.identifier("org")
        let seasonId = try a.identifier("season", maxLength: 16)
        let gtin = try a.gtin()
        _ = try season(seasonId, s)
        _ = try s.activeMember(org, role: .farm, field: "org")
        for serial in try a.stringList("serials", maxItems: Self.maxRingsPerTx, maxLength: GS1Key.maxSerialLength) {
            let key = GS1Key.sgtin(gtin: gtin, serial: try GS1Key.checkedSerial(serial))
            guard var ring = try s.record(CrabKeys.object(key)) else {
                throw ChainError(.unknownRing, "ring \(key.canonical) was never commissioned")
            }
            guard ring.str("status") == "commissioned" else {
                throw ChainError(.ringReused, "ring \(key.canonical) is already \(ring.str("status") ?? "used")")
            }
            ring["status"] = .string("allocated")
            ring["allocatedTo"] = .string(org)
            ring["season"] = .string(seasonId)
            s.put(CrabKeys.object(key), ring)
            try s.history(key.canonical, ["org": .string(org), "season": .string(seasonId)])
        }
    }

    /// `tag_harvest {season, gtin, lot, pond, zone, harvestedAt, rings: [{serial, sex, weightG}]}` (farm).
    ///
    /// Invariants 1 (`quota_exceeded`), 3 (`unknown_ring`, `ring_reused`, `ring_not_allocated`) and
    /// 4 (`out_of_season`, `wrong_zone`). A lot belongs to one farm and season (`lot_conflict`) and
    /// takes no more rings once inspected (`lot_closed`).
    func tagHarvest(_ args: JSONValue, _ s: CrabStep) throws {
        let a = try Arguments(args, allowed: ["season", "gtin", "lot", "pond", "zone", "harvestedAt", "rings"])
        let seasonId = try a.identifier("season", maxLength: 16)
        let gtin = try a.gtin()
        let lotNo = try GS1Key.checkedLot(try a.string("lot", maxLength: GS1Key.maxLotLength))
        let pond = try a.string("pond", maxLength: 64)
        let zone = try a.string("zone", maxLength: 64)
        let harvestedAt = try a.int("harvestedAt", in: 0...Self.maxTime)
        let rings = try a.array("rings", maxItems: Self.maxRingsPerTx)
        let se = try season(seasonId, s)
        guard let farm = try s.record(CrabKeys.member(s.caller.org)) else {
            throw ChainError(.notAMember, "org \(s.caller.org) is not registered")
        }
        // Invariant 4: in season, in the registered zone.
        guard s.now >= se.int("opensAt"), s.now <= se.int("closesAt") else {
            throw ChainError(
                .outOfSeason, "season \(seasonId) is open from \(se.int("opensAt")) to \(se.int("closesAt")); now is \(s.now)")
        }
        guard harvestedAt >= se.int("opensAt"), harvestedAt <= s.now else {
            throw ChainError(.outOfSeason, "harvestedAt must lie between the season's opening and now")
        }
        guard zone == farm.str("zone") else {
            throw ChainError(.wrongZone, "farm \(s.caller.org) is registered in zone \(farm.str("zone") ?? "?"), not \(zone)")
        }
        // Invariant 1: tagged this season + new ≤ area × cap.
        let cap = farm.int("areaMu") * se.int("capPerMu")
        var tagged = try s.record(CrabKeys.tagged(seasonId, s.caller.org)) ?? ["count": .int(0)]
        let total = tagged.int("count") + Int64(rings.count)
        guard total <= cap else {
            throw ChainError(
                .quotaExceeded, "farm \(s.caller.org) may tag \(cap) rings in season \(seasonId); this would make \(total)")
        }
        tagged["count"] = .int(total)
        s.put(CrabKeys.tagged(seasonId, s.caller.org), tagged)
        // The lot.
        let lotKey = GS1Key.lot(gtin: gtin, lot: lotNo)
        var lot =
            try s.record(CrabKeys.object(lotKey)) ?? [
                "type": .string("lot"), "gtin": .string(gtin), "lot": .string(lotNo), "farm": .string(s.caller.org),
                "season": .string(seasonId), "pond": .string(pond), "zone": .string(zone), "harvestedAt": .int(harvestedAt),
                "count": .int(0), "frozen": .bool(false), "recalled": .bool(false),
            ]
        guard lot.str("farm") == s.caller.org, lot.str("season") == seasonId else {
            throw ChainError(
                .lotConflict, "lot \(lotNo) belongs to \(lot.str("farm") ?? "?") in season \(lot.str("season") ?? "?")")
        }
        guard lot["inspection"] == nil else {
            throw ChainError(.lotClosed, "lot \(lotNo) was already inspected; tag new crabs into a new lot")
        }
        lot["count"] = .int(lot.int("count") + Int64(rings.count))
        s.put(CrabKeys.object(lotKey), lot)
        // Invariant 3, per ring.
        var seen = Set<String>()
        for item in rings {
            let r = try Arguments(item, allowed: ["serial", "sex", "weightG"])
            let serial = try GS1Key.checkedSerial(try r.string("serial", maxLength: GS1Key.maxSerialLength))
            let sex = try r.choice("sex", ["male", "female"])
            let weight = try r.int("weightG", in: 1...2000)
            let key = GS1Key.sgtin(gtin: gtin, serial: serial)
            guard var ring = try s.record(CrabKeys.object(key)) else {
                throw ChainError(.unknownRing, "ring \(key.canonical) was never commissioned")
            }
            guard seen.insert(serial).inserted, ring.str("status") != "tagged" else {
                throw ChainError(.ringReused, "ring \(key.canonical) is already on a crab")
            }
            guard ring.str("status") == "allocated", ring.str("allocatedTo") == s.caller.org, ring.str("season") == seasonId
            else {
                throw ChainError(
                    .ringNotAllocated, "ring \(key.canonical) is not allocated to \(s.caller.org) for season \(seasonId)")
            }
            ring["status"] = .string("tagged")
            ring["lot"] = .string(lotNo)
            ring["farm"] = .string(s.caller.org)
            ring["sex"] = .string(sex)
            ring["weightG"] = .int(weight)
            ring["harvestedAt"] = .int(harvestedAt)
            ring["taggedAt"] = .int(s.now)
            ring["custodian"] = .string(s.caller.org)
            s.put(CrabKeys.object(key), ring)
            try s.history(
                key.canonical,
                [
                    "lot": .string(lotNo), "pond": .string(pond), "zone": .string(zone), "sex": .string(sex),
                    "weightG": .int(weight), "harvestedAt": .int(harvestedAt), "season": .string(seasonId),
                ])
        }
        try s.history(lotKey.canonical, ["rings": .int(Int64(rings.count)), "pond": .string(pond), "zone": .string(zone)])
    }
}
