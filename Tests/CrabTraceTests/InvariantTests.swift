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
        try h.ok(.farm, "farmA", "tag_harvest", h.tagArgs(1...8))
        try h.refused("quota_exceeded", .farm, "farmA", "tag_harvest", h.tagArgs(9...11, lot: "L2"))
        try h.ok(.farm, "farmA", "tag_harvest", h.tagArgs(9...10, lot: "L2"))
    }

    @Test func invariant2PaperCrabsAreRefusedAndExpiryOrRefundReleases() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        // No quota at all.
        try h.refused("paper_crabs", .merchant, "merch", "issue_coupons", try h.issueArgs(1...1).1)
        try h.ok(
            .association, "assoc", "grant_quota",
            .object(["season": .string("2026"), "org": .string("merch"), "crabs": .int(10)]))
        let first = try h.issue(1...2)  // 8 of 10 promised
        try h.refused("paper_crabs", .merchant, "merch", "issue_coupons", try h.issueArgs(3...3).1)
        // Lowering the quota below what is promised is refused too.
        try h.refused(
            "paper_crabs", .association, "assoc", "grant_quota",
            .object(["season": .string("2026"), "org": .string("merch"), "crabs": .int(7)]))
        // A refund releases the reservation.
        try h.ok(.merchant, "merch", "refund_coupon", .object(["gcn": .string(h.gcn(first[0].key))]))
        try h.ok(.merchant, "merch", "issue_coupons", try h.issueArgs(3...3).1)
        #expect(try h.queries.stock(season: "2026", org: "merch")?["promised"]?.int64Value == 8)
        // Expiry releases too, but only once validity has passed.
        try h.refused(
            "not_expired", .merchant, "merch", "expire_coupons", .object(["gcns": .array([.string(h.gcn(first[1].key))])]))
        h.time += 61 * CrabHarness.day
        try h.ok(.merchant, "merch", "expire_coupons", .object(["gcns": .array([.string(h.gcn(first[1].key))])]))
        #expect(try h.queries.stock(season: "2026", org: "merch")?["promised"]?.int64Value == 4)
    }

    @Test func invariant3RingsAreCommissionedOnceByTheAssociationAndTaggedOnlyByTheirFarm() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        let codes = try h.commission(1...4)
        let again: JSONValue = .object([
            "gtin": .string(CrabHarness.gtin),
            "rings": .array([.object(["serial": .string("R0001"), "secretHash": .string(codes[0].secretHash)])]),
        ])
        try h.refused("ring_reused", .association, "assoc", "commission_rings", again)
        try h.refused("role_not_allowed", .farm, "farmA", "commission_rings", again)
        try h.allocate(1...2, to: "farmA")
        try h.allocate(3...3, to: "farmB")
        try h.refused(
            "ring_reused", .association, "assoc", "allocate_rings",
            .object([
                "org": .string("farmB"), "season": .string("2026"), "gtin": .string(CrabHarness.gtin),
                "serials": .array([.string("R0001")]),
            ]))
        try h.refused("unknown_ring", .farm, "farmA", "tag_harvest", h.tagArgs(9...9))
        try h.refused("ring_not_allocated", .farm, "farmA", "tag_harvest", h.tagArgs(3...3))  // farmB's
        try h.refused("ring_not_allocated", .farm, "farmA", "tag_harvest", h.tagArgs(4...4))  // never allocated
        try h.ok(.farm, "farmA", "tag_harvest", h.tagArgs(1...1))
        try h.refused("ring_reused", .farm, "farmA", "tag_harvest", h.tagArgs(1...1, lot: "L2"))
        // A duplicate inside one request is a reuse too.
        var dup = h.tagArgs(2...2, lot: "L3")
        if case .object(var o) = dup, let r = o["rings"]?.arrayValue {
            o["rings"] = .array(r + r)
            dup = .object(o)
        }
        try h.refused("ring_reused", .farm, "farmA", "tag_harvest", dup)
    }

    @Test func invariant4TaggingOnlyInSeasonAndInTheRegisteredZone() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        try h.commission(1...2)
        try h.allocate(1...2)
        try h.refused("wrong_zone", .farm, "farmA", "tag_harvest", h.tagArgs(1...1, zone: "pond-west"))
        try h.refused(
            "unknown_season", .farm, "farmA", "tag_harvest",
            {
                guard case .object(var o) = h.tagArgs(1...1) else { return .null }
                o["season"] = .string("2027")
                return .object(o)
            }())
        h.time = CrabHarness.seasonOpens + 91 * CrabHarness.day
        try h.refused("out_of_season", .farm, "farmA", "tag_harvest", h.tagArgs(1...1))
        h.time = CrabHarness.seasonOpens - 10 * CrabHarness.day
        try h.refused("out_of_season", .farm, "farmA", "tag_harvest", h.tagArgs(1...1))
    }

    @Test func invariant5CouponRedeemedExactlyOnceInsideValidityAgainstGoodCrabs() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let g = coupons.map { h.gcn($0.key) }
        func redeem(_ gcn: String, _ sscc: String) -> JSONValue { .object(["gcn": .string(gcn), "sscc": .string(sscc)]) }
        // Another merchant cannot redeem merch's coupon.
        try h.refused("not_owner", .merchant, "merch2", "redeem", redeem(g[0], CrabHarness.ssccA))
        // Wrong size: a 4.5 liang coupon needs ≥ 215 g; the crabs weigh 210 g (fine for 3.0, which needs ≥ 140 g).
        let big = try h.issue(4...4, size: "4.5", perCoupon: 4)
        try h.refused("wrong_size", .merchant, "merch", "redeem", redeem(h.gcn(big[0].key), CrabHarness.ssccA))
        // Wrong count.
        let two = try h.issue(5...5, size: "3.0", perCoupon: 2)
        try h.refused("wrong_count", .merchant, "merch", "redeem", redeem(h.gcn(two[0].key), CrabHarness.ssccA))
        // Frozen lot, then recalled lot.
        try h.ok(.regulator, "reg", "freeze_lot", h.lotArgs("L1", ["reason": .string("residue suspicion")]))
        try h.refused("lot_frozen", .merchant, "merch", "redeem", redeem(g[0], CrabHarness.ssccA))
        try h.ok(.regulator, "reg", "unfreeze_lot", h.lotArgs("L1"))
        // Redeemed exactly once.
        try h.ok(.merchant, "merch", "redeem", redeem(g[0], CrabHarness.ssccA))
        try h.refused("already_redeemed", .merchant, "merch", "redeem", redeem(g[0], CrabHarness.ssccB))
        try h.refused("box_used", .merchant, "merch", "redeem", redeem(g[1], CrabHarness.ssccA))
        // Expired.
        h.time += 61 * CrabHarness.day
        try h.refused("coupon_expired", .merchant, "merch", "redeem", redeem(g[1], CrabHarness.ssccB))
    }

    @Test func invariant5LotsMustBeInspectedPassedAndNotRecalled() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 20)
        try h.commission(1...12)
        try h.allocate(1...12)
        try h.ok(.farm, "farmA", "tag_harvest", h.tagArgs(1...4, lot: "L1"))
        try h.ok(.farm, "farmA", "tag_harvest", h.tagArgs(5...8, lot: "L2"))
        try h.ok(.farm, "farmA", "tag_harvest", h.tagArgs(9...12, lot: "L3"))
        try h.inspect("L2", result: "fail")
        try h.inspect("L3")
        try h.refused("lot_closed", .farm, "farmA", "tag_harvest", h.tagArgs(1...1, lot: "L3"))
        try h.ok(.regulator, "reg", "recall", h.lotArgs("L3", ["reason": .string("recall")]))
        try h.pack(CrabHarness.ssccA, 1...4)
        try h.pack(CrabHarness.ssccB, 5...8)
        try h.pack(CrabHarness.ssccC, 9...12)
        // Quota goes to merchants only.
        try h.refused(
            "not_a_member", .association, "assoc", "grant_quota",
            .object(["season": .string("2026"), "org": .string("farmA"), "crabs": .int(1)]))
        try h.ok(
            .association, "assoc", "grant_quota",
            .object(["season": .string("2026"), "org": .string("merch"), "crabs": .int(100)]))
        for sscc in [CrabHarness.ssccA, CrabHarness.ssccB, CrabHarness.ssccC] {
            try h.ok(.farm, "farmA", "ship", .object(["sscc": .string(sscc), "to": .string("merch")]))
            try h.ok(.merchant, "merch", "receive", .object(["sscc": .string(sscc)]))
        }
        let c = try h.issue(1...3)
        try h.refused(
            "not_inspected", .merchant, "merch", "redeem",
            .object(["gcn": .string(h.gcn(c[0].key)), "sscc": .string(CrabHarness.ssccA)]))
        try h.refused(
            "inspection_failed", .merchant, "merch", "redeem",
            .object(["gcn": .string(h.gcn(c[0].key)), "sscc": .string(CrabHarness.ssccB)]))
        try h.refused(
            "recalled", .merchant, "merch", "redeem",
            .object(["gcn": .string(h.gcn(c[0].key)), "sscc": .string(CrabHarness.ssccC)]))
    }

    @Test func invariant7PersonalDataOnlyAsSaltedHashes() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let gcn = h.gcn(coupons[0].key)
        try h.refused(
            "bad_args", .consumer, "gw", "book_redemption",
            .object([
                "gcn": .string(gcn), "secretHash": .string(h.secretHash(coupons[0].key)), "phoneHash": .string("13800138000"),
                "city": .string("Suzhou"),
            ]))
        try h.refused(
            "bad_secret", .consumer, "gw", "book_redemption",
            .object([
                "gcn": .string(gcn), "secretHash": .string(Fixtures.randomHash()), "phoneHash": .string(Fixtures.randomHash()),
                "city": .string("Suzhou"),
            ]))
    }
}
