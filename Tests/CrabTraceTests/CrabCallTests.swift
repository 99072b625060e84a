import ChainCore
import ChainTesting
import CrabTraceContract
import Identity
import Storage
import Testing

/// The typed call builders: every builder, with every optional argument, is accepted by the
/// contract's argument reader, and together they cover the method table.
@Suite struct CrabCallTests {
    @Test func everyBuilderWithAllItsArgumentsIsAcceptedByTheContract() throws {
        let h = try CrabHarness()
        var called = Set<String>()
        @discardableResult
        func ok(_ role: Role, _ org: String, _ call: ContractCall, sourceLocation: SourceLocation = #_sourceLocation) throws
            -> StoredTransaction
        {
            #expect(call.contract == "crab")
            called.insert(call.method)
            return try h.ok(role, org, call, sourceLocation: sourceLocation)
        }
        let gtin = CrabHarness.gtin

        // Membership and the season.
        try ok(
            .association, "assoc",
            CrabCall.registerMember(
                org: "farmA", role: .farm, name: "farmA Co.", licence: "L-1", areaMu: 2, zone: "lake-east",
                salesRegion: ["Suzhou"], gln: "9521234000006"))
        try ok(
            .association, "assoc",
            CrabCall.updateMember(
                org: "farmA", name: "farmA Ltd.", licence: "L-2", areaMu: 1, zone: "lake-east",
                salesRegion: ["Suzhou", "Wuxi"], gln: "9521234000006"))
        try ok(
            .association, "assoc",
            CrabCall.registerMember(org: "merch", role: .merchant, name: "m", licence: "L-3", salesRegion: ["Suzhou"]))
        try ok(.association, "assoc", CrabCall.registerMember(org: "lab", role: .lab, name: "l", licence: "L-4"))
        try ok(.association, "assoc", CrabCall.registerMember(org: "logi", role: .logistics, name: "g", licence: "L-5"))
        try ok(
            .association, "assoc",
            CrabCall.openSeason(
                season: "2026", opensAt: CrabHarness.seasonOpens, closesAt: CrabHarness.seasonOpens + 90 * CrabHarness.day,
                capPerMu: 10, couponValidityDays: 60, sizes: [LiangSize(tenths: 30), LiangSize(tenths: 45)], maxScans: 5,
                scanWindowHours: 24, lateScanDays: 30, shipWithinDays: 3, breakerPercent: 100))
        try ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 100))
        try ok(.association, "assoc", CrabCall.liftIssuanceSuspension(season: "2026", org: "merch"))
        try ok(.regulator, "reg", CrabCall.suspendMember(org: "logi", reason: "audit"))
        try ok(.regulator, "reg", CrabCall.reinstateMember(org: "logi", reason: "audit passed"))

        // Rings, the lot, boxes.
        let rings = try h.generator.rings(gtin: gtin, serials: 1...8, prefix: "R", width: 4, using: &h.rng)
        for c in rings { h.secrets[c.key.canonical] = c.secret }
        try ok(.association, "assoc", CrabCall.commissionRings(gtin: gtin, rings: rings.map(CrabCall.Ring.init)))
        let serials = CrabHarness.serials(1...8)
        try ok(.association, "assoc", CrabCall.allocateRings(org: "farmA", season: "2026", gtin: gtin, serials: serials))
        let tag = try ok(
            .farm, "farmA",
            CrabCall.tagHarvest(
                season: "2026", gtin: gtin, lot: "L1", pond: "P7", zone: "lake-east", harvestedAt: h.time,
                rings: serials.enumerated().map { i, s in
                    CrabCall.TaggedRing(serial: s, sex: i % 2 == 0 ? .male : .female, weightG: 230)
                }))
        try ok(
            .lab, "lab",
            CrabCall.inspectLot(
                gtin: gtin, lot: "L1", result: .pass, residues: ["enrofloxacin": .string("ND")],
                reportHash: Fixtures.randomHash()))
        try ok(.farm, "farmA", CrabCall.packBox(sscc: CrabHarness.ssccA, gtin: gtin, serials: Array(serials[0..<4])))
        try ok(.farm, "farmA", CrabCall.unpackBox(sscc: CrabHarness.ssccA))
        try ok(.farm, "farmA", CrabCall.packBox(sscc: CrabHarness.ssccB, gtin: gtin, serials: Array(serials[0..<4])))
        try ok(.farm, "farmA", CrabCall.ship(sscc: CrabHarness.ssccB, to: .member("merch"), carrier: "logi"))
        try ok(.logistics, "logi", CrabCall.handOver(sscc: CrabHarness.ssccB))
        try ok(.merchant, "merch", CrabCall.receive(sscc: CrabHarness.ssccB))
        // Coupons promise crabs the shop holds: four more for the 1-crab coupons.
        try ok(.farm, "farmA", CrabCall.packBox(sscc: CrabHarness.ssccC, gtin: gtin, serials: Array(serials[4..<8])))
        try ok(.farm, "farmA", CrabCall.ship(sscc: CrabHarness.ssccC, to: .member("merch"), carrier: "logi"))
        try ok(.logistics, "logi", CrabCall.handOver(sscc: CrabHarness.ssccC))
        try ok(.merchant, "merch", CrabCall.receive(sscc: CrabHarness.ssccC))
        try ok(.regulator, "reg", CrabCall.freezeLot(gtin: gtin, lot: "L1", reason: "re-test"))
        try ok(.regulator, "reg", CrabCall.unfreezeLot(gtin: gtin, lot: "L1", reason: "re-test passed"))

        // Coupons.
        let coupons = try h.generator.coupons(base12: "952123400001", serials: 1...4, using: &h.rng)
        for c in coupons { h.secrets[c.key.canonical] = c.secret }
        let gcns = coupons.compactMap(\.key.gcnValue)
        let validUntil = h.time + 30 * CrabHarness.day
        try ok(
            .merchant, "merch",
            CrabCall.issueCoupons(
                season: "2026", coupons: [CrabCall.Coupon(coupons[0])], sizeLiang: LiangSize(tenths: 30),
                crabsPerCoupon: 4, validUntil: validUntil))
        try ok(
            .merchant, "merch",
            CrabCall.issueCoupons(
                season: "2026", coupons: coupons[1...].map(CrabCall.Coupon.init), sizeLiang: LiangSize(tenths: 30),
                crabsPerCoupon: 1, validUntil: validUntil))
        try ok(.merchant, "merch", CrabCall.sellCoupon(gcn: gcns[0], toHolderHash: Fixtures.randomHash()))
        try ok(
            .consumer, "gw",
            CrabCall.transferCoupon(
                gcn: gcns[0], toHolderHash: Fixtures.randomHash(), secretHash: h.secretHash(coupons[0].key)))
        try ok(
            .node, "gw",
            CrabCall.bookRedemption(
                gcn: gcns[0], secretHash: h.secretHash(coupons[0].key), phoneHash: Fixtures.randomHash(), city: "Suzhou"))
        try ok(.merchant, "merch", CrabCall.redeem(gcn: gcns[0], sscc: CrabHarness.ssccB))
        try ok(.merchant, "merch", CrabCall.refundCoupon(gcn: gcns[1], reason: "changed mind"))
        try ok(.regulator, "reg", CrabCall.recall(.coupon(gcn: gcns[2]), reason: "fraud"))
        try ok(.regulator, "reg", CrabCall.recall(.ring(gtin: gtin, serial: serials[7]), reason: "damaged"))
        try ok(.regulator, "reg", CrabCall.recall(.lot(gtin: gtin, lot: "L1"), reason: "residue"))

        // Consumers.
        try ok(
            .node, "gw",
            CrabCall.scan(code: rings[0].key.canonical, secretHash: h.secretHash(rings[0].key), city: "Suzhou", at: h.time))
        try ok(
            .consumer, "gw",
            CrabCall.complain(code: rings[0].key.canonical, phoneHash: Fixtures.randomHash(), text: "late", city: "Suzhou"))
        // A forged code raises an alert, which the regulator closes; the policy and a batch close.
        let forged = GS1Key.sgtin(gtin: gtin, serial: "FORGED1")
        try ok(
            .node, "gw",
            CrabCall.scan(
                code: forged.canonical, secretHash: Fixtures.randomHash(), city: "Suzhou", device: Fixtures.randomHash(),
                source: Fixtures.randomHash()))
        let alert = try #require(try h.queries.alerts(openOnly: true).first?["seq"]?.int64Value)
        try ok(.regulator, "reg", CrabCall.closeAlert(seq: alert, note: "looked into it"))
        try ok(.association, "assoc", CrabCall.setScanPolicy(maxFailuresPerSource: 1, failureWindowHours: 1))
        try ok(.node, "gw", CrabCall.scan(code: forged.canonical, secretHash: Fixtures.randomHash(), city: "Suzhou"))
        let open = try h.queries.alertPage(filter: .init(open: true)).alerts.compactMap { $0["seq"]?.int64Value }
        try ok(.regulator, "reg", CrabCall.closeAlerts(seqs: open, note: "one forger"))

        // Time-based steps and error declarations.
        h.time = validUntil + CrabHarness.day
        try ok(.merchant, "merch", CrabCall.expireCoupons(gcns: [gcns[3]]))
        try ok(.node, "gw", CrabCall.sweep(gcns: gcns))
        try ok(
            .farm, "farmA",
            CrabCall.declareError(
                txid: tag.result.txid.hex, reason: .incorrectData, note: "pond was P8", correction: ["pond": .string("P8")]))

        #expect(called == Set(CrabTraceContract.methods.map(\.name)))
    }

    @Test func optionalArgumentsLeftNilAreOmitted() {
        #expect(CrabCall.reinstateMember(org: "x").args == .object(["org": .string("x")]))
        #expect(CrabCall.unfreezeLot(gtin: "g", lot: "l").args == .object(["gtin": .string("g"), "lot": .string("l")]))
        #expect(CrabCall.scan(code: "c", secretHash: "h", city: "x").args["at"] == nil)
        #expect(CrabCall.ship(sscc: "s", to: .consumer).args == .object(["sscc": .string("s"), "to": .string("consumer")]))
        let member = CrabCall.registerMember(org: "o", role: .lab, name: "n", licence: "l")
        #expect(Set(member.args.objectValue?.keys.map { $0 } ?? []) == ["org", "role", "name", "licence"])
        #expect(CrabCall.recall(.coupon(gcn: "1"), reason: "r").args == .object(["gcn": .string("1"), "reason": .string("r")]))
        #expect(CrabCall.couponList([]) == .object(["coupons": .array([])]))
    }

    @Test func liangSizesAreOneDecimalJSONNumbers() throws {
        #expect(LiangSize(tenths: 30).jsonValue == .number("3.0"))
        #expect(LiangSize(tenths: 45).jsonValue == .number("4.5"))
        #expect(LiangSize("3.5")?.tenths == 35 && LiangSize("3")?.tenths == 30 && LiangSize("0.1")?.tenths == 1)
        for bad in ["", ".5", "3.", "3.25", "-1", "+3", "3e1", "x", "1.2.3"] { #expect(LiangSize(bad) == nil, "\(bad)") }
        // Whatever the value, the literal stays valid JSON (the contract refuses what it does not accept).
        for t: Int64 in [-5, -123, 0, 2001, .max, .min] {
            let bytes = JSONValue.object(["s": LiangSize(tenths: t).jsonValue]).canonicalBytes
            #expect(try JSONParser().parse(bytes)["s"] == LiangSize(tenths: t).jsonValue)
        }
    }
}
