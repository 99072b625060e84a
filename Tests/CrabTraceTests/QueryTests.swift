import ChainCore
import ChainTesting
import CrabTraceContract
import Foundation
import Identity
import Storage
import Testing

@Suite struct VerdictTests {
    @Test func unknownCodesAndWrongSecretsShowNoProductData() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        let ring = h.ringKey(1)
        let never = try h.queries.verify(code: "https://other.resolver/01/\(CrabHarness.gtin)/21/NOPE?s=K7Q2M9XZ")
        #expect(never.status == .unknown && never.reasons == ["never_issued"] && never.details.isEmpty)
        #expect(try h.queries.verify(code: ring.canonical).reasons == ["secret_missing"])
        let wrong = try h.queries.verify(code: DigitalLink.uri(ring, resolver: "x.example", secret: "AAAAAAAA"))
        #expect(wrong.status == .unknown && wrong.reasons == ["secret_mismatch"] && wrong.details.isEmpty)
        // The typed short code works like the QR.
        #expect(try h.queries.verify(code: DigitalLink.shortCode(ring, secret: h.secrets[ring.canonical])).status == .genuine)
        #expect(errorCode { try h.queries.verify(code: "(414)9521234000013") } == "bad_code")
        // A box sticker never packed: unknown, not an error (issue 12, item 9).
        let neverPacked = "(00)" + (GS1Key.appendingCheckDigit("10614141123456799") ?? "")
        #expect(try h.queries.verify(code: neverPacked).reasons == ["never_issued"])
        #expect(errorCode { try h.queries.verify(code: "garbage") } == "bad_code")
    }

    @Test func recalledRedeemedAndSuspicious() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        // Suspicious: frozen lot.
        try h.ok(.regulator, "reg", CrabCall.freezeLot(gtin: CrabHarness.gtin, lot: "L1", reason: "check"))
        let frozen = try h.queries.verify(code: h.printed(h.ringKey(1)))
        #expect(frozen.status == .suspicious && frozen.reasons.contains("lot_frozen"))
        try h.ok(.regulator, "reg", CrabCall.unfreezeLot(gtin: CrabHarness.gtin, lot: "L1"))
        // Suspicious: an open alert (two cities).
        try h.ok(.node, "gw", h.scanCall(h.ringKey(2), city: "Suzhou", device: 1))
        try h.ok(.node, "gw", h.scanCall(h.ringKey(2), city: "Shanghai", device: 2))
        #expect(try h.queries.verify(code: h.printed(h.ringKey(2))).reasons == ["two_cities"])
        // Recalled: one ring; a coupon.
        try h.ok(.regulator, "reg", CrabCall.recall(.ring(gtin: CrabHarness.gtin, serial: "R0003"), reason: "x"))
        #expect(try h.queries.verify(code: h.printed(h.ringKey(3))).status == .recalled)
        try h.ok(.regulator, "reg", CrabCall.recall(.coupon(gcn: try #require(coupons[2].key.gcnValue)), reason: "fraud"))
        #expect(try h.queries.verify(code: h.printed(coupons[2].key)).status == .recalled)
        #expect(try h.queries.stock(season: "2026", org: "merch")?["promised"]?.int64Value == 8)
        // Redeemed coupon; a live one is genuine, and suspicious once past validity at the given time.
        try h.bookAndRedeem(try #require(coupons[0].key.gcnValue), CrabHarness.ssccB)
        #expect(try h.queries.verify(code: h.printed(coupons[0].key)).status == .redeemed)
        let live = try h.queries.verify(code: h.printed(coupons[1].key))
        #expect(live.status == .genuine && live.details["merchant"]?["org"]?.stringValue == "merch")
        let late = try h.queries.verify(code: h.printed(coupons[1].key), now: h.time + 70 * CrabHarness.day)
        #expect(late.status == .suspicious && late.reasons == ["coupon_expired"])
        // Suspicious: suspended farm; a ring never tagged.
        try h.ok(.regulator, "reg", CrabCall.suspendMember(org: "farmA", reason: "fraud"))
        #expect(try h.queries.verify(code: h.printed(h.ringKey(4))).reasons.contains("farm_suspended"))
        try h.commission(13...13)
        #expect(try h.queries.verify(code: h.printed(h.ringKey(13))).reasons.contains("not_tagged"))
        #expect(VerdictStatus.allCases.count == 5)
    }

    @Test func complaintsAreStoredWithHashedPhonesOnly() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        let phone = Fixtures.randomHash()
        try h.ok(.consumer, "gw", CrabCall.complain(code: h.ringKey(1).canonical, phoneHash: phone, text: "dead crab"))
        try h.ok(
            .consumer, "gw", CrabCall.complain(code: "(01)\(CrabHarness.gtin)(21)FAKE", phoneHash: phone, text: "fake?"))
        let list = try h.queries.complaints()
        #expect(list.count == 2)
        #expect(list[0]["known"]?.boolValue == true && list[1]["known"]?.boolValue == false)
        #expect(list[0]["phoneHash"]?.stringValue == phone)
        #expect(try h.queries.complaints(after: 1).count == 1)
        #expect(try h.queries.trace(code: h.ringKey(1).canonical).entries.contains { $0.step == "complain" })
        #expect(try h.queries.lot(gtin: CrabHarness.gtin, lot: "L1")?["inspection"]?["result"]?.stringValue == "pass")
        #expect(try h.queries.member("merch")?["role"]?.stringValue == "merchant")
    }
}

@Suite struct EPCISExportTests {
    func fullTrace() throws -> (CrabHarness, AccountabilityTrace) {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let gcn = try #require(coupons[0].key.gcnValue)
        try h.ok(.merchant, "merch", CrabCall.sellCoupon(gcn: gcn))
        try h.ok(
            .consumer, "gw",
            CrabCall.bookRedemption(
                gcn: gcn, secretHash: h.secretHash(coupons[0].key), phoneHash: Fixtures.randomHash(), city: "Suzhou"))
        try h.ok(.merchant, "merch", CrabCall.redeem(gcn: gcn, sscc: CrabHarness.ssccA))
        try h.ok(.merchant, "merch", CrabCall.ship(sscc: CrabHarness.ssccA, to: .consumer, carrier: "logi"))
        try h.ok(.logistics, "logi", CrabCall.receive(sscc: CrabHarness.ssccA))
        try h.ok(.node, "gw", h.scanCall(h.ringKey(1), city: "Suzhou"))
        let inspect = try #require(try h.queries.history("01/\(CrabHarness.gtin)/10/L1").first { $0.step == "inspect_lot" })
        try h.ok(
            .lab, "lab",
            CrabCall.declareError(txid: inspect.txid, reason: .incorrectData, correction: ["residues": .string("ND")]))
        try h.ok(.regulator, "reg", CrabCall.recall(.ring(gtin: CrabHarness.gtin, serial: "R0002"), reason: "x"))
        return (h, try h.queries.trace(code: h.printed(coupons[0].key)))
    }

    @Test func stepsMapToEPCISEvents() throws {
        let (h, trace) = try fullTrace()
        let events = try EPCISExport(queries: h.queries).events(for: trace.entries)
        let byStep = Dictionary(grouping: events, by: { $0["bizStep"]?.stringValue ?? "" })
        #expect(byStep["commissioning"]?.contains { $0["action"]?.stringValue == "ADD" && $0["ilmd"] != nil } == true)
        let pack = try #require(events.first { $0["type"]?.stringValue == "AggregationEvent" })
        #expect(pack["parentID"]?.stringValue == "https://id.xiangchain.example/00/\(CrabHarness.ssccA)")
        #expect(pack["childEPCs"]?.arrayValue?.count == 4)
        #expect(byStep["inspecting"]?.first?["disposition"]?.stringValue == "conformant")
        #expect(events.contains { $0["errorDeclaration"]?["reason"]?.stringValue == "incorrect_data" })
        #expect(byStep["holding"]?.contains { $0["disposition"]?.stringValue == "recalled" } == true)
        #expect(events.allSatisfy { $0["eventTimeZoneOffset"]?.stringValue == "+08:00" })
        // farmA has a GLN: its events carry it as read point.
        #expect(events.contains { $0["readPoint"]?["id"]?.stringValue == "https://id.xiangchain.example/414/9521234000006" })
        #expect(EPCISExport.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(EPCISExport.iso8601(1_789_862_400_123) == "2026-09-20T00:00:00.123Z")
    }

    @Test func exportedDocumentIsValidAgainstTheGS1Schema() throws {
        let (h, trace) = try fullTrace()
        let exporter = EPCISExport(queries: h.queries)
        let doc = exporter.document(events: try exporter.events(for: trace.entries), creationTime: h.time)
        guard let errors = try EPCISSchemaCheck.errors(doc) else {
            print("skipping EPCIS schema validation: python3/jsonschema or the schema file is absent")
            return
        }
        #expect(errors.isEmpty, "schema: \(errors)")
    }
}
