import ChainCore
import ChainTesting
import CrabTraceContract
import Identity
import Storage
import Testing

@Suite struct AlertTests {
    func kinds(_ h: CrabHarness, _ object: String) throws -> [String] {
        try h.queries.alerts(object: object).compactMap { $0["kind"]?.stringValue }
    }

    @Test func scansOfForgedCodesSucceedAndRecordNeverIssued() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason()
        try h.commission(1...2)
        // Unknown serial.
        let forged = GS1Key.sgtin(gtin: CrabHarness.gtin, serial: "FAKE1")
        let tx = try h.ok(.node, "gw", h.scanCall(forged, city: "Suzhou", hash: Fixtures.randomHash()))
        #expect(tx.result.events.map(\.name).contains("alert"))
        #expect(try kinds(h, forged.canonical) == ["never_issued"])
        #expect(try h.queries.history(forged.canonical).first?.data["city"]?.stringValue == "Suzhou")
        // A real serial with a wrong secret: nothing on the genuine ring, a failed check of its source.
        try h.ok(.node, "gw", h.scanCall(h.ringKey(1), city: "Suzhou", hash: Fixtures.randomHash(), source: 7))
        #expect(try h.queries.alerts(object: h.ringKey(1).canonical).isEmpty)
        #expect(try h.queries.failedChecks(object: h.ringKey(1).canonical)?["count"]?.int64Value == 1)
        let source = try #require(try h.queries.failedChecks(source: CrabHarness.device(7)))
        #expect(source["lastReason"]?.stringValue == "secret_mismatch")
        // A genuine ring never put on a crab.
        try h.ok(.node, "gw", h.scanCall(h.ringKey(2), city: "Suzhou"))
        #expect(try h.queries.alerts(object: h.ringKey(2).canonical).first?["details"]?["reason"]?.stringValue == "not_tagged")
        // Coupons too.
        let c = GS1Key.gcn(GS1Key.appendingCheckDigit("952123400001")! + "999")
        try h.ok(.consumer, "gw", h.scanCall(c, city: "Suzhou", hash: Fixtures.randomHash()))
        #expect(try kinds(h, c.canonical) == ["never_issued"])
    }

    @Test func twoCitiesWithinTheWindowTooManyScansAndOutOfRegion() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        let ring = h.ringKey(1)
        try h.ok(.node, "gw", h.scanCall(ring, city: "Suzhou", device: 1))
        #expect(try kinds(h, ring.canonical).isEmpty)
        h.time += 2 * 3_600_000
        // The same device in another city is one buyer travelling: nothing.
        try h.ok(.node, "gw", h.scanCall(ring, city: "Shanghai", device: 1))
        #expect(try kinds(h, ring.canonical).isEmpty)
        // Another device in another city within the window: two cities (and Beijing is out of region).
        try h.ok(.node, "gw", h.scanCall(ring, city: "Beijing", device: 2))
        #expect(try kinds(h, ring.canonical) == ["two_cities", "out_of_region"])
        // Another ring: two cities more than 24 h apart raise nothing (both in the sales region).
        let other = h.ringKey(2)
        try h.ok(.node, "gw", h.scanCall(other, city: "Suzhou", device: 1))
        h.time += 25 * 3_600_000
        try h.ok(.node, "gw", h.scanCall(other, city: "Shanghai", device: 2))
        #expect(try kinds(h, other.canonical).isEmpty)
        // Page loads are not devices: the same five devices again raise nothing.
        for d in 1...5 { try h.ok(.node, "gw", h.scanCall(other, city: "Shanghai", device: d)) }
        for d in 1...5 { try h.ok(.node, "gw", h.scanCall(other, city: "Shanghai", device: d)) }
        #expect(try kinds(h, other.canonical).isEmpty)
        #expect(try h.queries.verify(code: h.printed(other)).details["scans"]?.int64Value == 12)
        // maxScans is 5: a sixth distinct device raises once.
        try h.ok(.node, "gw", h.scanCall(other, city: "Shanghai", device: 6))
        #expect(try kinds(h, other.canonical) == ["too_many_scans"])
        try h.ok(.node, "gw", h.scanCall(other, city: "Shanghai", device: 7))
        #expect(try kinds(h, other.canonical) == ["too_many_scans"])
    }

    @Test func lateScanOfARecycledRing() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        h.time = CrabHarness.seasonOpens + (90 + 31) * CrabHarness.day
        try h.ok(.node, "gw", h.scanCall(h.ringKey(3), city: "Suzhou"))
        #expect(try kinds(h, h.ringKey(3).canonical) == ["late_scan"])
    }

    @Test func capacityCircuitBreakerSuspendsIssuanceUntilLifted() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 20, breakerPercent: 80)
        try h.harvest(1...20)
        try h.deliver(1...20)
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 20))
        try h.issue(1...2)  // 8 of 20: 40 %
        #expect(try h.queries.alerts().isEmpty)
        try h.issue(3...4)  // 16 of 20: 80 % → breaker
        let alerts = try h.queries.alerts()
        #expect(alerts.map { $0["kind"]?.stringValue } == ["capacity_exhausted"])
        #expect(alerts[0]["object"]?.stringValue == "member:merch")
        try h.refused("issuance_suspended", .merchant, "merch", try h.issueCall(5...5, perCoupon: 1).1)
        try h.ok(.association, "assoc", CrabCall.liftIssuanceSuspension(season: "2026", org: "merch"))
        try h.issue(5...5, perCoupon: 1)
        try h.refused("issuance_suspended", .merchant, "merch", try h.issueCall(6...6, perCoupon: 1).1)
    }

    @Test func sweepRaisesNotShippedAndExpiresCoupons() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let g = coupons.compactMap(\.key.gcnValue)
        try h.bookAndRedeem(g[0], CrabHarness.ssccA)
        #expect(try h.queries.sweepCandidates(now: h.time).isEmpty)
        h.time += 4 * CrabHarness.day
        #expect(try h.queries.sweepCandidates(now: h.time + 1000) == [g[0]])
        try h.ok(.node, "gw", CrabCall.sweep(gcns: try h.queries.sweepCandidates(now: h.time + 1000)))
        #expect(try kinds(h, coupons[0].key.canonical) == ["not_shipped"])
        // Only once.
        try h.ok(.regulator, "reg", CrabCall.sweep(gcns: [g[0]]))
        #expect(try kinds(h, coupons[0].key.canonical) == ["not_shipped"])
        // Expiry of the others after validity; stale candidates are skipped.
        h.time += 60 * CrabHarness.day
        let candidates = try h.queries.sweepCandidates(now: h.time + 1000)
        #expect(Set(candidates) == Set(g[1...]))
        try h.ok(.association, "assoc", CrabCall.sweep(gcns: candidates + [g[0]]))
        #expect(try h.record(coupons[1].key)["status"]?.stringValue == "expired")
        #expect(try h.queries.stock(season: "2026", org: "merch")?["promised"]?.int64Value == 0)
        // Alerts can be closed, and stay listed.
        let open = try h.queries.alerts(openOnly: true)
        #expect(open.count == 1)
        try h.ok(.regulator, "reg", CrabCall.closeAlert(seq: 1, note: "shipped late, fined"))
        #expect(try h.queries.alerts(openOnly: true).isEmpty && h.queries.alerts().count == 1)
        try h.refused("bad_state", .regulator, "reg", CrabCall.closeAlert(seq: 1, note: "again"))
    }
}
