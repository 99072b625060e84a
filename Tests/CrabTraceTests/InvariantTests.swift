import ChainCore
import ChainTesting
import CrabTraceContract
import Execution
import Identity
import Storage
import Testing

/// Each invariant of DOMAIN.md: the violating write is refused with its code, recorded as failed,
/// writes nothing and leaves state unchanged (`CrabHarness.refused` checks all of that).
@Suite struct InvariantTests {
    @Test func invariant1TaggingBeyondAreaTimesCapIsRefused() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 10)  // farmA: 1 mu × 10
        try h.commission(1...12)
        try h.allocate(1...12)
        try h.ok(.farm, "farmA", h.tagCall(1...8))
        try h.refused("quota_exceeded", .farm, "farmA", h.tagCall(9...11, lot: "L2"))
        try h.ok(.farm, "farmA", h.tagCall(9...10, lot: "L2"))
    }

    @Test func invariant2PaperCrabsAreRefusedAndExpiryOrRefundReleases() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 20)
        try h.harvest(1...12)
        try h.deliver(1...12)
        // No quota at all.
        try h.refused("paper_crabs", .merchant, "merch", try h.issueCall(1...1).1)
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 10))
        let first = try h.issue(1...2).compactMap(\.key.gcnValue)  // 8 of 10 promised
        try h.refused("paper_crabs", .merchant, "merch", try h.issueCall(3...3).1)
        // Lowering the quota below what is promised is refused too.
        try h.refused("paper_crabs", .association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 7))
        // A refund releases the reservation.
        try h.ok(.merchant, "merch", CrabCall.refundCoupon(gcn: first[0]))
        try h.ok(.merchant, "merch", try h.issueCall(3...3).1)
        #expect(try h.queries.stock(season: "2026", org: "merch")?["promised"]?.int64Value == 8)
        // Expiry releases too, but only once validity has passed.
        try h.refused("not_expired", .merchant, "merch", CrabCall.expireCoupons(gcns: [first[1]]))
        h.time += 61 * CrabHarness.day
        try h.ok(.merchant, "merch", CrabCall.expireCoupons(gcns: [first[1]]))
        #expect(try h.queries.stock(season: "2026", org: "merch")?["promised"]?.int64Value == 4)
    }

    @Test func invariant3RingsAreCommissionedOnceByTheAssociationAndTaggedOnlyByTheirFarm() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        let codes = try h.commission(1...4)
        let again = CrabCall.commissionRings(
            gtin: CrabHarness.gtin, rings: [CrabCall.Ring(serial: "R0001", secretHash: codes[0].secretHash)])
        try h.refused("ring_reused", .association, "assoc", again)
        try h.refused("role_not_allowed", .farm, "farmA", again)
        try h.allocate(1...2, to: "farmA")
        try h.allocate(3...3, to: "farmB")
        try h.refused(
            "ring_reused", .association, "assoc",
            CrabCall.allocateRings(org: "farmB", season: "2026", gtin: CrabHarness.gtin, serials: ["R0001"]))
        try h.refused("unknown_ring", .farm, "farmA", h.tagCall(9...9))
        try h.refused("ring_not_allocated", .farm, "farmA", h.tagCall(3...3))  // farmB's
        try h.refused("ring_not_allocated", .farm, "farmA", h.tagCall(4...4))  // never allocated
        try h.ok(.farm, "farmA", h.tagCall(1...1))
        try h.refused("ring_reused", .farm, "farmA", h.tagCall(1...1, lot: "L2"))
        // A duplicate inside one request is a reuse too.
        let ring2 = h.taggedRings(2...2)
        try h.refused("ring_reused", .farm, "farmA", h.tagCall(rings: ring2 + ring2, lot: "L3"))
    }

    @Test func invariant4TaggingOnlyInSeasonAndInTheRegisteredZone() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        try h.commission(1...2)
        try h.allocate(1...2)
        try h.refused("wrong_zone", .farm, "farmA", h.tagCall(1...1, zone: "pond-west"))
        try h.refused("unknown_season", .farm, "farmA", h.tagCall(1...1, season: "2027"))
        h.time = CrabHarness.seasonOpens + 91 * CrabHarness.day
        try h.refused("out_of_season", .farm, "farmA", h.tagCall(1...1))
        h.time = CrabHarness.seasonOpens - 10 * CrabHarness.day
        try h.refused("out_of_season", .farm, "farmA", h.tagCall(1...1))
    }

    @Test func invariant5CouponRedeemedExactlyOnceInsideValidityAgainstGoodCrabs() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let g = coupons.compactMap(\.key.gcnValue)
        let redeem = CrabCall.redeem
        // Another merchant cannot redeem merch's coupon.
        try h.refused("not_owner", .merchant, "merch2", redeem(g[0], CrabHarness.ssccA))
        // Only what its holder booked (issue 12 item 5): not an issued or sold coupon.
        try h.refused("not_booked", .merchant, "merch", redeem(g[0], CrabHarness.ssccA))
        try h.ok(.merchant, "merch", CrabCall.sellCoupon(gcn: g[0]))
        try h.refused("not_booked", .merchant, "merch", redeem(g[0], CrabHarness.ssccA))
        for gcn in g { try h.book(.gcn(gcn)) }
        // Wrong size: a 4.5 liang coupon needs ≥ 215 g; the crabs of box A weigh 210 g (fine for 3.0,
        // which needs ≥ 140 g). merch holds six crabs of 230 g too (lot L2), so it may issue it.
        try h.harvest(13...18, lot: "L2", weight: 230)
        try h.deliver(13...18)
        let big = try h.issue(4...4, size: LiangSize(tenths: 45), perCoupon: 4).compactMap(\.key.gcnValue)
        try h.book(.gcn(big[0]))
        try h.refused("wrong_size", .merchant, "merch", redeem(big[0], CrabHarness.ssccA))
        // Wrong count.
        let two = try h.issue(5...5, size: LiangSize(tenths: 30), perCoupon: 2).compactMap(\.key.gcnValue)
        try h.book(.gcn(two[0]))
        try h.refused("wrong_count", .merchant, "merch", redeem(two[0], CrabHarness.ssccA))
        // Frozen lot, then recalled lot.
        try h.ok(.regulator, "reg", CrabCall.freezeLot(gtin: CrabHarness.gtin, lot: "L1", reason: "residue suspicion"))
        try h.refused("lot_frozen", .merchant, "merch", redeem(g[0], CrabHarness.ssccA))
        try h.ok(.regulator, "reg", CrabCall.unfreezeLot(gtin: CrabHarness.gtin, lot: "L1"))
        // Redeemed exactly once.
        try h.ok(.merchant, "merch", redeem(g[0], CrabHarness.ssccA))
        try h.refused("already_redeemed", .merchant, "merch", redeem(g[0], CrabHarness.ssccB))
        try h.refused("box_used", .merchant, "merch", redeem(g[1], CrabHarness.ssccA))
        // Expired.
        h.time += 61 * CrabHarness.day
        try h.refused("coupon_expired", .merchant, "merch", redeem(g[1], CrabHarness.ssccB))
    }

    @Test func invariant5LotsMustBeInspectedPassedAndNotRecalled() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 20)
        try h.commission(1...12)
        try h.allocate(1...12)
        try h.ok(.farm, "farmA", h.tagCall(1...4, lot: "L1"))
        try h.ok(.farm, "farmA", h.tagCall(5...8, lot: "L2"))
        try h.ok(.farm, "farmA", h.tagCall(9...12, lot: "L3"))
        try h.inspect("L2", result: .fail)
        try h.inspect("L3")
        try h.refused("lot_closed", .farm, "farmA", h.tagCall(1...1, lot: "L3"))
        try h.ok(.regulator, "reg", CrabCall.recall(.lot(gtin: CrabHarness.gtin, lot: "L3"), reason: "recall"))
        try h.pack(CrabHarness.ssccA, 1...4)
        try h.pack(CrabHarness.ssccB, 5...8)
        try h.pack(CrabHarness.ssccC, 9...12)
        // Quota goes to merchants only.
        try h.refused("not_a_member", .association, "assoc", CrabCall.grantQuota(season: "2026", org: "farmA", crabs: 1))
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 100))
        for sscc in [CrabHarness.ssccA, CrabHarness.ssccB, CrabHarness.ssccC] {
            try h.ok(.farm, "farmA", CrabCall.ship(sscc: sscc, to: .member("merch")))
            try h.ok(.merchant, "merch", CrabCall.receive(sscc: sscc))
        }
        // None of those crabs backs a coupon; four of a passed lot L4 do.
        try h.refused("insufficient_stock", .merchant, "merch", try h.issueCall(1...1).1)
        try h.harvest(13...16, lot: "L4")
        try h.deliver(13...16)
        let c = try #require(try h.issue(1...1)[0].key.gcnValue)
        try h.book(.gcn(c))
        try h.refused("not_inspected", .merchant, "merch", CrabCall.redeem(gcn: c, sscc: CrabHarness.ssccA))
        try h.refused("inspection_failed", .merchant, "merch", CrabCall.redeem(gcn: c, sscc: CrabHarness.ssccB))
        try h.refused("recalled", .merchant, "merch", CrabCall.redeem(gcn: c, sscc: CrabHarness.ssccC))
    }

    @Test func invariant7PersonalDataOnlyAsSaltedHashes() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let gcn = try #require(coupons[0].key.gcnValue)
        // A raw phone number where the salted hash belongs (malformed on purpose, so raw JSON).
        try h.refused(
            "bad_args", .consumer, "gw", "book_redemption",
            .object([
                "gcn": .string(gcn), "secretHash": .string(h.secretHash(coupons[0].key)), "phoneHash": .string("13800138000"),
                "city": .string("Suzhou"),
            ]))
        try h.refused(
            "bad_secret", .consumer, "gw",
            CrabCall.bookRedemption(
                gcn: gcn, secretHash: Fixtures.randomHash(), phoneHash: Fixtures.randomHash(), city: "Suzhou"))
    }
}
