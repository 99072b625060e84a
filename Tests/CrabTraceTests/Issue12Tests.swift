import ChainCore
import ChainTesting
import CrabTraceContract
import Identity
import Storage
import Testing

/// Issue 12, the contract's side: what a stranger's lookups may not do to a genuine object, how
/// repeat checks are judged, and stock backed by crabs.
@Suite struct Issue12ContractTests {
    /// Item 1: lookups of genuine serials without their secret (the serial is printed in clear)
    /// never change what the next buyer sees, and raise no alert on the genuine object.
    @Test func lookupsWithoutTheSecretDoNotPoisonGenuineRings() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        // A script walks the sequential serials with no secret (the gateway hashes an empty one)
        // and with guessed ones.
        for n in 1...8 {
            let ring = h.ringKey(n)
            try h.ok(.node, "gw", h.scanCall(ring, city: "Suzhou", hash: CodeSecret.hash(key: ring, secret: "")))
            try h.ok(.node, "gw", h.scanCall(ring, city: "Suzhou", hash: Fixtures.randomHash()))
        }
        for n in 1...8 {
            let ring = h.ringKey(n)
            let v = try h.queries.verify(code: h.printed(ring))
            #expect(v.status == .genuine, "ring \(n): \(v.reasons)")
            #expect(try h.queries.alerts(object: ring.canonical).isEmpty, "ring \(n)")
            #expect(v.details["scans"]?.int64Value == 0, "failed attempts are not the buyer's checks")
        }
        #expect(!(try h.queries.trace(code: h.ringKey(1).canonical).entries.contains { $0.step == "scan" }))
    }

    /// Item 2: one buyer reloading the page, a gift coupon checked by its giver, receiver and family.
    @Test func repeatChecksOfOneBuyerAndAGiftCouponAreNotSuspicious() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let ring = h.ringKey(1)
        for _ in 0..<7 { try h.ok(.consumer, "gw", h.scanCall(ring, city: "Shanghai")) }
        let v = try h.queries.verify(code: h.printed(ring))
        #expect(v.status == .genuine, "\(v.reasons)")
        #expect(v.details["scans"]?.int64Value == 7 && v.details["firstScanAt"]?.int64Value != nil)
        // The gift coupon: 7 checks in one day by the giver (苏州) and the receiver's family (上海).
        let coupon = coupons[1].key
        for (i, city) in ["Suzhou", "Suzhou", "Shanghai", "Shanghai", "Shanghai", "Shanghai", "Shanghai"].enumerated() {
            _ = i
            try h.ok(.consumer, "gw", h.scanCall(coupon, city: city))
        }
        let c = try h.queries.verify(code: h.printed(coupon))
        #expect(c.status == .genuine, "\(c.reasons)")
    }

    /// Item 1: repeated failures from one source (a script walking serials) raise one alert on that
    /// source, past the association's configurable threshold; other sources are not affected.
    @Test func repeatedFailuresFromOneSourceRaiseOneAlertOnTheSource() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        try h.ok(.association, "assoc", CrabCall.setScanPolicy(maxFailuresPerSource: 5, failureWindowHours: 1))
        try h.refused(
            "role_not_allowed", .merchant, "merch", CrabCall.setScanPolicy(maxFailuresPerSource: 1, failureWindowHours: 1))
        for n in 1...4 {
            try h.ok(.node, "gw", h.scanCall(h.ringKey(n), city: "Suzhou", hash: Fixtures.randomHash(), source: 1))
        }
        let source = CrabKeys.sourceObject(CrabHarness.device(1))
        #expect(try h.queries.alerts(object: source).isEmpty)
        for n in 5...8 {
            try h.ok(.node, "gw", h.scanCall(h.ringKey(n), city: "Suzhou", hash: Fixtures.randomHash(), source: 1))
        }
        let alerts = try h.queries.alerts(object: source)
        #expect(alerts.count == 1 && alerts.first?["kind"]?.stringValue == "repeated_failures")
        #expect(alerts.first?["repeats"]?.int64Value == 3, "the 6th–8th failures count on the open alert")
        // Another source's single mistake raises nothing; after the window the count starts again.
        try h.ok(.node, "gw", h.scanCall(h.ringKey(1), city: "Suzhou", hash: Fixtures.randomHash(), source: 2))
        #expect(try h.queries.alerts(object: CrabKeys.sourceObject(CrabHarness.device(2))).isEmpty)
        h.time += 2 * 3_600_000
        try h.ok(.node, "gw", h.scanCall(h.ringKey(1), city: "Suzhou", hash: Fixtures.randomHash(), source: 1))
        #expect(try h.queries.failedChecks(source: CrabHarness.device(1))?["count"]?.int64Value == 1)
        // The genuine rings are untouched throughout.
        for n in 1...8 { #expect(try h.queries.verify(code: h.printed(h.ringKey(n))).status == .genuine) }
    }

    /// Item 2: the verdict counts the check being made, as the chain will: the check that raises
    /// `two_cities` is told so, and the count includes it.
    @Test func theVerdictCountsTheCheckBeingMade() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        let ring = h.ringKey(1)
        let first = ScanObservation(city: "Shanghai", device: CrabHarness.device(1), time: h.time)
        let v1 = try h.queries.verify(code: h.printed(ring), check: first)
        #expect(v1.status == .genuine && v1.details["scans"]?.int64Value == 1)
        #expect(v1.details["firstScanCity"]?.stringValue == "Shanghai")
        try h.ok(.node, "gw", h.scanCall(ring, city: "Shanghai", device: 1))
        // The same buyer again: still genuine, count 2, first check time kept.
        let again = try h.queries.verify(code: h.printed(ring), check: first)
        #expect(again.status == .genuine && again.details["scans"]?.int64Value == 2)
        #expect(again.details["firstScanAt"]?.int64Value == h.time)
        // Another device in another city within the window: this very check reads two_cities.
        let clone = ScanObservation(city: "Suzhou", device: CrabHarness.device(2), time: h.time + 1000)
        let v2 = try h.queries.verify(code: h.printed(ring), check: clone)
        #expect(v2.status == .suspicious && v2.reasons == ["two_cities"], "\(v2.reasons)")
        // Without the secret nothing is counted or told.
        let bare = try h.queries.verify(code: DigitalLink.shortCode(ring, secret: nil), check: clone)
        #expect(bare.status == .unknown && bare.details.isEmpty)
    }

    /// Item 3 (the desk): one open alert per object and kind however many times it recurs; alerts
    /// newest first, filtered by kind, paged; closed one or many at once with a reason.
    @Test func theDeskPagesFiltersAndClosesAlertsNewestFirst() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        // 30 forged serials, each looked up 3 times: 30 alerts, not 90.
        for n in 1...30 {
            let forged = GS1Key.sgtin(gtin: CrabHarness.gtin, serial: "FAKE\(n)")
            for _ in 0..<3 {
                try h.ok(.node, "gw", h.scanCall(forged, city: "Suzhou", hash: Fixtures.randomHash(), source: n))
            }
        }
        try h.ok(.node, "gw", h.scanCall(h.ringKey(1), city: "Suzhou", device: 1))
        try h.ok(.node, "gw", h.scanCall(h.ringKey(1), city: "Beijing", device: 2))
        let all = try h.queries.alertPage(filter: .init(open: true), limit: 100)
        #expect(all.openCount == 32 && all.openByKind == ["never_issued": 30, "two_cities": 1, "out_of_region": 1])
        let seqs = all.alerts.compactMap { $0["seq"]?.int64Value }
        #expect(seqs == seqs.sorted(by: >), "newest first")
        #expect(all.alerts.first?["object"]?.stringValue == h.ringKey(1).canonical)
        // Pages of 10 walk all 30 forgeries without overlap.
        var seen: [Int64] = []
        var before: Int64?
        repeat {
            let page = try h.queries.alertPage(filter: .init(open: true, kind: "never_issued"), before: before, limit: 10)
            seen += page.alerts.compactMap { $0["seq"]?.int64Value }
            before = page.next
        } while before != nil
        #expect(seen.count == 30 && Set(seen).count == 30 && seen == seen.sorted(by: >))
        // Close 25 at once with one reason; a batch naming a closed or unknown alert closes nothing.
        try h.ok(.regulator, "reg", CrabCall.closeAlerts(seqs: Array(seen.prefix(25)), note: "one forger, reported"))
        try h.refused("bad_state", .regulator, "reg", CrabCall.closeAlerts(seqs: [seen[25], seen[0]], note: "x"))
        try h.refused("unknown_alert", .association, "assoc", CrabCall.closeAlerts(seqs: [seen[25], 9999], note: "x"))
        try h.refused("bad_args", .regulator, "reg", CrabCall.closeAlerts(seqs: [seen[25], seen[25]], note: "x"))
        try h.refused("role_not_allowed", .merchant, "merch", CrabCall.closeAlerts(seqs: [seen[25]], note: "x"))
        let after = try h.queries.alertPage(filter: .init(open: true))
        #expect(after.openCount == 7 && after.openByKind["never_issued"] == 5)
        let closed = try h.queries.alertPage(filter: .init(open: false))
        #expect(closed.alerts.count == 25 && closed.alerts.allSatisfy { $0["note"]?.stringValue == "one forger, reported" })
        // A closed finding that recurs opens a new alert (FAKE30 was closed); an open one counts on.
        let again = GS1Key.sgtin(gtin: CrabHarness.gtin, serial: "FAKE30")
        try h.ok(.node, "gw", h.scanCall(again, city: "Suzhou", hash: Fixtures.randomHash()))
        #expect(try h.queries.alerts(object: again.canonical).count == 2)
        let open = GS1Key.sgtin(gtin: CrabHarness.gtin, serial: "FAKE1")
        try h.ok(.node, "gw", h.scanCall(open, city: "Suzhou", hash: Fixtures.randomHash()))
        let one = try h.queries.alerts(object: open.canonical)
        #expect(one.count == 1 && one.first?["repeats"]?.int64Value == 3)
    }

    /// Item 4, the scenario of the issue: a shop that received 8 inspected crabs cannot promise
    /// 320 more; coupons are backed by the inspected crabs it holds, by size class; refunds and
    /// expiry give them back, redemption consumes them, crabs shipped on leave its stock; the
    /// association's quota stays a cap.
    @Test func couponsPromiseOnlyInspectedCrabsTheShopHolds() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 40)
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 1000))
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch2", crabs: 1000))
        // A quota alone promises nothing: no crab received yet.
        try h.refused("insufficient_stock", .merchant, "merch", try h.issueCall(1...1, perCoupon: 1).1)
        // 8 inspected crabs: rings 1–4 weigh 210 g (enough for 4.0 liang, ≥ 190 g), 5–8 weigh 150 g (3.0 only).
        try h.harvest(1...4, lot: "L1", weight: 210)
        try h.harvest(5...8, lot: "L2", weight: 150)
        let heavy = try h.deliver(1...4)
        let light = try h.deliver(5...8)
        // 80 coupons of 4 crabs: 320 paper crabs, refused; so is one crab more than it holds.
        try h.refused("insufficient_stock", .merchant, "merch", try h.issueCall(1...80, perCoupon: 4).1)
        try h.refused("insufficient_stock", .merchant, "merch", try h.issueCall(1...9, perCoupon: 1).1)
        // By size: 4 crabs are heavy enough for 4.0 liang, all 8 for 3.0.
        let big = try h.issue(1...1, size: LiangSize(tenths: 40), perCoupon: 4).compactMap(\.key.gcnValue)
        try h.refused(
            "insufficient_stock", .merchant, "merch", try h.issueCall(2...2, size: LiangSize(tenths: 40), perCoupon: 1).1)
        let small = try h.issue(3...3, size: LiangSize(tenths: 30), perCoupon: 4).compactMap(\.key.gcnValue)
        try h.refused(
            "insufficient_stock", .merchant, "merch", try h.issueCall(4...4, size: LiangSize(tenths: 30), perCoupon: 1).1)
        var stock = try #require(try h.queries.stock(season: "2026", org: "merch"))
        #expect(stock["onHand"]?["30"]?.int64Value == 8 && stock["onHand"]?["40"]?.int64Value == 4)
        #expect(stock["promisedBySize"]?["30"]?.int64Value == 4 && stock["promisedBySize"]?["40"]?.int64Value == 4)
        // A refund gives the crabs back.
        try h.ok(.merchant, "merch", CrabCall.refundCoupon(gcn: big[0]))
        let again = try h.issue(5...5, size: LiangSize(tenths: 30), perCoupon: 4).compactMap(\.key.gcnValue)
        try h.refused(
            "insufficient_stock", .merchant, "merch", try h.issueCall(6...6, size: LiangSize(tenths: 30), perCoupon: 1).1)
        // Redemption consumes the crabs of the box: the light box for the first 3.0 coupon leaves 4 on hand for the other.
        try h.bookAndRedeem(small[0], light)
        stock = try #require(try h.queries.stock(season: "2026", org: "merch"))
        #expect(stock["onHand"]?["30"]?.int64Value == 4 && stock["delivered"]?.int64Value == 4)
        try h.refused(
            "insufficient_stock", .merchant, "merch", try h.issueCall(6...6, size: LiangSize(tenths: 30), perCoupon: 1).1)
        // Expiry gives them back.
        h.time += 61 * CrabHarness.day
        try h.ok(.merchant, "merch", CrabCall.expireCoupons(gcns: again))
        let back = try h.issue(6...6, size: LiangSize(tenths: 40), perCoupon: 4).compactMap(\.key.gcnValue)
        try h.ok(.merchant, "merch", CrabCall.refundCoupon(gcn: back[0]))
        // Crabs shipped on leave the shop's stock and join the receiver's; the receiver's quota still caps.
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch2", crabs: 3))
        try h.ok(.merchant, "merch", CrabCall.ship(sscc: heavy, to: .member("merch2"), carrier: "logi"))
        try h.refused("insufficient_stock", .merchant, "merch", try h.issueCall(7...7, perCoupon: 1).1)
        try h.ok(.logistics, "logi", CrabCall.handOver(sscc: heavy))
        try h.ok(.merchant, "merch2", CrabCall.receive(sscc: heavy))
        try h.refused("paper_crabs", .merchant, "merch2", try h.issueCall(7...7, perCoupon: 4).1)
        try h.ok(.merchant, "merch2", try h.issueCall(7...7, size: LiangSize(tenths: 40), perCoupon: 3).1)
        // Crabs of a lot not yet inspected, or of a failed one, are not stock.
        try h.commission(9...12)
        try h.allocate(9...12)
        try h.ok(.farm, "farmA", h.tagCall(9...10, lot: "L3"))
        try h.ok(.farm, "farmA", h.tagCall(11...12, lot: "L4"))
        try h.inspect("L4", result: .fail)
        try h.deliver(9...10)
        try h.deliver(11...12)
        try h.refused("insufficient_stock", .merchant, "merch", try h.issueCall(8...8, perCoupon: 1).1)
        #expect(try h.queries.stock(season: "2026", org: "merch")?["onHand"]?["30"]?.int64Value == 0)
    }

    /// Item 8: the carrier signs every handover, farm → shop included; the trace of a redeemed
    /// coupon's crab names every signer on every leg, and the consumer: by the booking, and by the
    /// sale to a holder and the carrier's delivery (which name it whether or not it booked).
    @Test func theTraceNamesEverySignerOnEveryLegAndTheConsumer() throws {
        let h = try CrabHarness()
        try h.setUpMembersAndSeason(capPerMu: 20)
        try h.harvest(1...4)
        let box = CrabHarness.ssccA
        try h.pack(box, 1...4)
        try h.ok(.farm, "farmA", CrabCall.ship(sscc: box, to: .member("merch"), carrier: "logi"))
        // The shop cannot take the box before its carrier signs the handover, and only the carrier can.
        try h.refused("bad_state", .merchant, "merch", CrabCall.receive(sscc: box))
        try h.refused("role_not_allowed", .merchant, "merch", CrabCall.handOver(sscc: box))
        try h.refused("not_a_member", .logistics, "farmB", CrabCall.handOver(sscc: box))
        try h.ok(.logistics, "logi", CrabCall.handOver(sscc: box))
        try h.refused("bad_state", .logistics, "logi", CrabCall.handOver(sscc: box))
        try h.ok(.merchant, "merch", CrabCall.receive(sscc: box))
        try h.ok(.association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 100))
        let coupon = try #require(try h.issue(1...1).first?.key)
        let gcn = try #require(coupon.gcnValue)
        let holder = Fixtures.randomHash()
        try h.ok(.merchant, "merch", CrabCall.sellCoupon(gcn: gcn, toHolderHash: holder))
        try h.bookAndRedeem(gcn, box)
        try h.ok(.merchant, "merch", CrabCall.ship(sscc: box, to: .consumer, carrier: "logi"))
        // A delivery to a consumer has no separate handover: the carrier's receive is it.
        try h.refused("bad_state", .logistics, "logi", CrabCall.handOver(sscc: box))
        try h.ok(.logistics, "logi", CrabCall.receive(sscc: box))

        for code in [h.printed(h.ringKey(1)), h.printed(coupon)] {
            let t = try h.queries.trace(code: code)
            #expect(t.legs.count == 2, "\(t.legs)")
            let toShop = try #require(t.legs.first)
            #expect(toShop.from == "farmA" && toShop.to == "merch" && toShop.carrier == "logi")
            #expect(toShop.shippedBy.org == "farmA" && toShop.handedOverBy?.org == "logi" && toShop.receivedBy?.org == "merch")
            #expect(toShop.handedOverBy?.role == "logistics" && toShop.handedOverBy?.subject == "logistics-logi")
            let toBuyer = try #require(t.legs.last)
            #expect(toBuyer.from == "merch" && toBuyer.to == "consumer" && toBuyer.carrier == "logi")
            #expect(toBuyer.shippedBy.org == "merch" && toBuyer.handedOverBy?.org == "logi" && toBuyer.receivedBy == nil)
            let parties = Dictionary(grouping: t.accountable, by: \.party)
            #expect(parties["farm"]?.first?.signer.org == "farmA")
            #expect(parties["lab"]?.first?.signer.org == "lab")
            #expect(parties["merchant"]?.contains { $0.step == "redeem" && $0.signer.org == "merch" } == true)
            let carrierSteps = Set((parties["logistics"] ?? []).map(\.step))
            #expect(carrierSteps == ["hand_over", "receive"], "\(carrierSteps)")
            let consumer = parties["consumer"] ?? []
            #expect(consumer.contains { $0.step == "sell_coupon" && $0.holderHash == holder }, "\(consumer)")
            #expect(consumer.contains { $0.step == "receive" && $0.signer.org == "logi" })
            #expect(t.json["legs"]?.arrayValue?.count == 2)
        }
    }

    /// Item 6: a phone or ID number never reaches the chain in a complaint, whatever its spelling;
    /// the gateway's form carries only the text's hash.
    @Test func complaintsRefusePhoneAndIDNumbersInAnySpelling() throws {
        let h = try CrabHarness()
        _ = try h.setUpRedeemable()
        let ring = h.ringKey(1).canonical
        let variants = [
            "商家不认，电话 139 1234 5678", "call me +86-139-1234-5678", "手机１３９１２３４５６７８", "一三九一二三四五六七八 找我",
            "身份证 32050219900101123X", "ID 320502199001011234", "座机 (0512) 6523-8888", "幺三九.一二三四.五六七八",
        ]
        for text in variants {
            try h.refused(
                "personal_data", .consumer, "gw", CrabCall.complain(code: ring, phoneHash: Fixtures.randomHash(), text: text))
        }
        try h.refused(
            "personal_data", .consumer, "gw",
            CrabCall.complain(code: ring, phoneHash: Fixtures.randomHash(), text: "假蟹", city: "苏州 13912345678"))
        // Codes, dates and counts are not personal data.
        try h.ok(
            .consumer, "gw",
            CrabCall.complain(
                code: ring, phoneHash: Fixtures.randomHash(), text: "扣 YC2600011 在 2026-10-05 买的 8 只，3.5 两，不符"))
        // The gateway's form: the text's hash only.
        let hash = Fixtures.randomHash()
        try h.ok(.node, "gw", CrabCall.complain(code: ring, phoneHash: Fixtures.randomHash(), textHash: hash, city: "上海"))
        let stored = try h.queries.complaints(after: 0, limit: 10)
        #expect(stored.count == 2 && stored.last?["textHash"]?.stringValue == hash && stored.last?["text"] == nil)
        #expect(stored.first?["textHash"]?.stringValue?.count == 64)
        try h.refused(
            "bad_args", .node, "gw", "complain",
            .object(["code": .string(ring), "phoneHash": .string(hash), "text": .string("x"), "textHash": .string(hash)]))
        #expect(PersonalData.numbers(in: "电话：一三九 一二三四 五六七八") == ["13912345678"])
    }
}

/// Issue 18, item 17 in the contract: a city signed by a consumer directly (not through the
/// gateway, which checks it too) must display as itself.
@Suite struct ContractCityTests {
    @Test func aConsumersOwnSignedScanWithAHiddenOrInvalidCharacterInItsCityIsRefused() throws {
        let h = try CrabHarness()
        let coupons = try h.setUpRedeemable()
        let ring = h.ringKey(1)
        let hostile = [
            "苏\u{202E}州", "苏州\u{2066}", "苏\u{200B}州", "苏\u{200D}州", "\u{FEFF}苏州", "苏州\u{E000}", "苏州\u{F0000}",
            "苏州\u{FFFD}", "苏州\u{2028}", "苏\u{0007}州", "苏州\u{0378}",
        ]
        // Noncharacters (a Swift literal cannot hold them).
        let nonCharacters = [0xFFFF, 0xFDD0, 0x1FFFE].compactMap { Unicode.Scalar(UInt32($0)) }.map { "苏州" + String($0) }
        #expect(nonCharacters.count == 3)
        for city in hostile + nonCharacters {
            try h.refused("bad_args", .consumer, "gw", h.scanCall(ring, city: city))
            try h.refused(
                "bad_args", .consumer, "gw",
                CrabCall.complain(
                    code: ring.canonical, phoneHash: Fixtures.randomHash(), textHash: Fixtures.randomHash(), city: city))
            try h.refused(
                "bad_args", .consumer, "gw",
                CrabCall.bookRedemption(
                    gcn: try #require(coupons[0].key.gcnValue), secretHash: h.secretHash(coupons[0].key),
                    phoneHash: Fixtures.randomHash(), city: city))
        }
        // Raw JSON with a lone surrogate escape never parses as text.
        #expect(throws: (any Error).self) { try JSONParser().parse(Array(#"{"city":"\ud800"}"#.utf8)) }
        // Real names, with spaces, in any script, pass.
        for city in ["苏州", "New York", "Zürich", "上海 浦东"] { try h.ok(.consumer, "gw", h.scanCall(ring, city: city, device: 9)) }
        #expect(try h.queries.verify(code: h.printed(ring)).details["scans"]?.int64Value == 4)
    }
}
