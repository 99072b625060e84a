import ChainClient
import ChainCore
import CrabTraceContract
import Foundation
import Identity
import Node

/// Seeds a believable Yangcheng Lake hairy crab season on a running network through a node's
/// API: identities for every party, then the season as signed `crab` transactions, each waited
/// for until committed. Runs once per network: `D/demo.json` marks a seeded network and holds
/// the codes (with their secrets) and the transaction ids.
struct DemoSeason {
    /// Resolver host printed in codes (the contract's default).
    static let resolver = CrabTraceConfig().resolver
    /// The GTIN of a ringed Yangcheng Lake crab (GS1 prefix 952 is reserved for demonstrations).
    static let gtin = "09521234543213"
    /// Rings commissioned by the association.
    static let ringCount = 600

    let layout: NetworkLayout
    /// API base URL of the node the transactions go to.
    let node: URL

    /// `D/demo.json`.
    var markerURL: URL { layout.root.appendingPathComponent("demo.json") }

    /// Seeds the season unless `D/demo.json` says it was seeded; returns the record and whether it already existed.
    func seedOnce(now: Date = Date()) async throws -> (record: DemoRecord, alreadySeeded: Bool) {
        if FileManager.default.fileExists(atPath: markerURL.path) {
            return (try DemoRecord.load(from: markerURL), true)
        }
        let record = try await seed(now: now)
        try record.write(to: markerURL)
        return (record, false)
    }

    // MARK: the season's dates

    /// Season id and dates: opening on 23 September (China time) of the current year, or of the
    /// previous year before that day; closing at the end of the year, or later so that "now" is in season.
    static func seasonDates(now: Date) -> (id: String, opensAt: Int64, closesAt: Int64) {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(secondsFromGMT: 8 * 3600) ?? cal.timeZone
        func millis(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ min: Int = 0) -> Int64 {
            let date = cal.date(from: DateComponents(year: y, month: m, day: d, hour: h, minute: min)) ?? now
            return Int64(date.timeIntervalSince1970 * 1000)
        }
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        var year = cal.component(.year, from: now)
        if nowMs < millis(year, 9, 23) { year -= 1 }
        let closes = max(millis(year, 12, 31, 23, 59), nowMs + 7 * 86_400_000)
        return (String(year), millis(year, 9, 23), closes)
    }

    // MARK: seeding

    /// A harvest lot of the story.
    struct Lot {
        let number: String
        let farm: DemoFarm
        let serials: ClosedRange<Int>
        let harvestDay: Int64
        let pass: Bool
    }

    func seed(now: Date) async throws -> DemoRecord {
        let started = ContinuousClock.now
        let genesis = try Genesis.load(from: layout.genesisURL)
        let cast = try DemoCast.plan(orgs: genesis.orgs.map(\.name))
        let client = try ChainClient(node)
        let chain = DemoChain(client: client, chainId: try await client.chainId(), signers: try cast.identities(in: layout))
        var txs: [TxOutcome] = []
        func run(_ steps: [DemoStep]) async throws -> [TxOutcome] {
            let out = try await chain.all(steps)
            txs += out
            return out
        }

        let (season, opensAt, closesAt) = Self.seasonDates(now: now)
        let yy = String(season.suffix(2))
        let nowMs = Int64(now.timeIntervalSince1970 * 1000)
        let day: Int64 = 86_400_000
        let assoc = cast.association.key
        let reg = cast.regulator.key
        let flagship = cast.merchants[0]
        let online = cast.merchants[1]
        let zoneOf = Dictionary(cast.members.map { ($0.org, $0.zone ?? "") }, uniquingKeysWith: { a, _ in a })
        var rng = SystemRandomNumberGenerator()
        let generator = CodeGenerator(resolver: Self.resolver)
        func gcn(_ coupon: GeneratedCode) -> String { coupon.key.gcnValue ?? "" }

        // 1. Members and the season.
        let registerSteps: [DemoStep] =
            (cast.members.map {
                DemoStep(label: "register \($0.role.rawValue) \($0.org)", signer: assoc, call: $0.call)
            })
        let openSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "open season \(season)", signer: assoc,
                    call: CrabCall.openSeason(
                        season: season, opensAt: opensAt, closesAt: closesAt, capPerMu: 300, couponValidityDays: 90,
                        sizes: [25, 30, 35, 40, 45, 50, 55, 60].map { LiangSize(tenths: $0) }, maxScans: 5, scanWindowHours: 24,
                        lateScanDays: 60, shipWithinDays: 3, breakerPercent: 95))
            ])

        // 2. Quotas, rings commissioned in two big batches, allocated 200 per farm household.
        let rings = try generator.rings(gtin: Self.gtin, serials: 1...Self.ringCount, prefix: "YC\(yy)", width: 5, using: &rng)
        let serial = { (n: Int) -> String in rings[n - 1].key.serial ?? "" }
        var quotas: [String: Int] = [:]
        for m in cast.merchants { quotas[m.actor.org, default: 0] += m.quota }
        var batch2: [DemoStep] = quotas.sorted { $0.key < $1.key }.map { org, crabs in
            DemoStep(
                label: "grant quota \(org)", signer: assoc,
                call: CrabCall.grantQuota(season: season, org: org, crabs: Int64(crabs)))
        }
        for (i, chunk) in [rings[0..<300], rings[300..<Self.ringCount]].enumerated() {
            batch2.append(
                DemoStep(
                    label: "commission rings batch \(i + 1)", signer: assoc,
                    call: CrabCall.commissionRings(gtin: Self.gtin, rings: chunk.map(CrabCall.Ring.init))))
        }
        let quotaCommissionSteps: [DemoStep] = (batch2)
        let allocateSteps: [DemoStep] =
            (cast.farms.enumerated().map { i, farm in
                DemoStep(
                    label: "allocate rings to \(farm.actor.key)", signer: assoc,
                    call: CrabCall.allocateRings(
                        org: farm.actor.org, season: season, gtin: Self.gtin, serials: (i * 200 + 1...i * 200 + 200).map(serial)))
            })

        // 3. Harvest: four lots tagged (sex and weight per crab), then inspected; lu's lot fails.
        let lots = [
            Lot(number: "YC\(yy)-Z01", farm: cast.farms[0], serials: 1...96, harvestDay: 16, pass: true),
            Lot(number: "YC\(yy)-W01", farm: cast.farms[1], serials: 201...248, harvestDay: 27, pass: true),
            Lot(number: "YC\(yy)-W02", farm: cast.farms[1], serials: 249...272, harvestDay: 41, pass: true),
            Lot(number: "YC\(yy)-L01", farm: cast.farms[2], serials: 401...424, harvestDay: 35, pass: false),
        ]
        var crabs: [Int: (sex: CrabCall.Sex, weightG: Int)] = [:]
        for lot in lots {
            for n in lot.serials {
                crabs[n] =
                    n % 2 == 1
                    ? (.male, Int.random(in: 200...290, using: &rng)) : (.female, Int.random(in: 150...205, using: &rng))
            }
        }
        let tagSteps: [DemoStep] =
            (lots.map { lot in
                DemoStep(
                    label: "tag harvest lot \(lot.number)", signer: lot.farm.actor.key,
                    call: CrabCall.tagHarvest(
                        season: season, gtin: Self.gtin, lot: lot.number, pond: lot.farm.pond,
                        zone: zoneOf[lot.farm.actor.org] ?? lot.farm.zone,
                        harvestedAt: max(opensAt, min(opensAt + lot.harvestDay * day + 6 * 3_600_000, nowMs - 3_600_000)),
                        rings: lot.serials.map { n in
                            CrabCall.TaggedRing(
                                serial: serial(n), sex: crabs[n]?.sex ?? .male, weightG: Int64(crabs[n]?.weightG ?? 200))
                        }))
            })
        let inspectSteps: [DemoStep] =
            (lots.map { lot in
                let residues: [String: JSONValue] =
                    lot.pass
                    ? ["enrofloxacin": .string("ND"), "malachite_green": .string("ND"), "cadmium_mg_kg": .string("0.12")]
                    : ["enrofloxacin": .string("86 µg/kg (limit 0)"), "malachite_green": .string("ND")]
                return DemoStep(
                    label: "inspect lot \(lot.number) (\(lot.pass ? "pass" : "fail"))", signer: cast.lab.key,
                    call: CrabCall.inspectLot(
                        gtin: Self.gtin, lot: lot.number, result: lot.pass ? .pass : .fail, residues: residues,
                        reportHash: Hash256.sha256(Array("检测报告 \(lot.number) \(season)".utf8)).hex))
            })

        // 4. Gift boxes of 8 (4 male, 4 female), packed at the farm, carried cold-chain to the flagship
        //    store; two boxes of 6 males for the online shop. Coupons promise only crabs a shop holds.
        struct Box {
            let sscc: String
            let lot: Lot
            let serials: [Int]
            let shop: DemoMerchant
        }
        var boxes: [Box] = []
        func addBox(_ lot: Lot, _ serials: [Int], to shop: DemoMerchant) throws {
            let ref = "30952123" + String(format: "%09d", (Int(yy) ?? 0) * 10_000_000 + boxes.count + 1)
            guard let sscc = GS1Key.appendingCheckDigit(ref) else { throw ChainError(.demoFailed, "bad SSCC \(ref)") }
            boxes.append(Box(sscc: sscc, lot: lot, serials: serials, shop: shop))
        }
        for k in 0..<4 { try addBox(lots[0], Array(1 + 8 * k..<9 + 8 * k), to: flagship) }
        try addBox(lots[1], Array(201..<209), to: flagship)
        try addBox(lots[2], Array(249..<257), to: flagship)
        // Males (odd serials, 200–290 g) of lot Z01: heavy enough for 4.0-liang coupons (≥ 190 g).
        try addBox(lots[0], Array(stride(from: 33, through: 43, by: 2)), to: online)
        try addBox(lots[0], Array(stride(from: 45, through: 55, by: 2)), to: online)
        let packSteps: [DemoStep] =
            (boxes.map { box in
                DemoStep(
                    label: "pack box \(box.sscc) from lot \(box.lot.number)", signer: box.lot.farm.actor.key,
                    call: CrabCall.packBox(sscc: box.sscc, gtin: Self.gtin, serials: box.serials.map(serial)))
            })
        let shipSteps: [DemoStep] =
            (boxes.map { box in
                DemoStep(
                    label: "ship box \(box.sscc) to \(box.shop.actor.org)", signer: box.lot.farm.actor.key,
                    call: CrabCall.ship(sscc: box.sscc, to: .member(box.shop.actor.org), carrier: cast.logistics.org))
            })
        let handOverSteps: [DemoStep] =
            (boxes.map { box in
                DemoStep(
                    label: "hand over box \(box.sscc) to \(box.shop.actor.org)", signer: cast.logistics.key,
                    call: CrabCall.handOver(sscc: box.sscc))
            })
        let receiveSteps: [DemoStep] =
            (boxes.map { box in
                DemoStep(
                    label: "receive box \(box.sscc)", signer: box.shop.actor.key, call: CrabCall.receive(sscc: box.sscc))
            })

        // 5. Coupons (蟹券), once the crabs are in the shops: the flagship store sells 3.0-liang × 8 gift
        //    coupons for its 40 inspected crabs (the frozen lot's box does not count), the online shop
        //    4.0-liang × 6 for its 12 males; the regulator recalls the failed lot and freezes another
        //    pending a water-quality check.
        let flagshipCoupons = try generator.coupons(base12: "952123400026", serials: 1...5, using: &rng)
        let onlineCoupons = try generator.coupons(base12: "952123400046", serials: 1...62, using: &rng)
        func issueCall(_ codes: ArraySlice<GeneratedCode>, size: LiangSize, perCoupon: Int64) -> ContractCall {
            CrabCall.issueCoupons(
                season: season, coupons: codes.map(CrabCall.Coupon.init), sizeLiang: size, crabsPerCoupon: perCoupon)
        }
        let issueSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "issue 5 coupons 3.0 liang × 8 (\(flagship.actor.key))", signer: flagship.actor.key,
                    call: issueCall(flagshipCoupons[...], size: LiangSize(tenths: 30), perCoupon: 8)),
                DemoStep(
                    label: "issue 2 coupons 4.0 liang × 6 (\(online.actor.key))", signer: online.actor.key,
                    call: issueCall(onlineCoupons[0..<2], size: LiangSize(tenths: 40), perCoupon: 6)),
                DemoStep(
                    label: "recall lot \(lots[3].number) (failed inspection)", signer: reg,
                    call: CrabCall.recall(
                        .lot(gtin: Self.gtin, lot: lots[3].number), reason: "检出恩诺沙星残留 (enrofloxacin residue); recalled")),
                DemoStep(
                    label: "freeze lot \(lots[2].number)", signer: reg,
                    call: CrabCall.freezeLot(
                        gtin: Self.gtin, lot: lots[2].number, reason: "中湖7号围网水质复检未完成 (water quality re-test pending)")),
            ])

        // 6. Paper crabs: the online shop, holding 12 crabs all promised, tries to sell 60 more coupons
        //    (360 crabs) — refused. The flagship store sells three coupons.
        let holder = { (who: String) -> String in Hash256.sha256(Array("XIANGCHAIN-DEMO-HOLDER\u{0}\(who)".utf8)).hex }
        let sellSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "over-issue 60 coupons 4.0 liang × 6 (\(online.actor.key))", signer: online.actor.key,
                    call: issueCall(onlineCoupons[2..<62], size: LiangSize(tenths: 40), perCoupon: 6),
                    expectError: "insufficient_stock")
            ]
                + (0..<3).map { i in
                    DemoStep(
                        label: "sell coupon \(gcn(flagshipCoupons[i]))", signer: flagship.actor.key,
                        call: CrabCall.sellCoupon(gcn: gcn(flagshipCoupons[i]), toHolderHash: holder("buyer-\(i + 1)")))
                })

        // 7. Redemption: the buyer in Shanghai books coupon 1, the store redeems it against box 1 and
        //    ships it cold-chain; coupon 2 against the frozen lot's box is refused.
        let coupon1 = flagshipCoupons[0]
        let coupon2 = flagshipCoupons[1]
        let phone = Hash256.sha256(Array("XIANGCHAIN-DEMO-PHONE\u{0}13800001234".utf8)).hex
        let bookSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "book redemption of coupon \(gcn(coupon1)) in 上海", signer: cast.consumer.key,
                    call: CrabCall.bookRedemption(
                        gcn: gcn(coupon1), secretHash: coupon1.secretHash, phoneHash: phone, city: "上海")),
                DemoStep(
                    label: "redeem against the frozen lot: coupon \(gcn(coupon2)), box \(boxes[5].sscc)",
                    signer: flagship.actor.key, call: CrabCall.redeem(gcn: gcn(coupon2), sscc: boxes[5].sscc),
                    expectError: "lot_frozen"),
            ])
        // A merchant redeems only what its holder booked: coupon 2's holder books too (at the counter).
        let bookCoupon2 = DemoStep(
            label: "book redemption of coupon \(gcn(coupon2)) at the counter in 苏州", signer: cast.consumer.key,
            call: CrabCall.bookRedemption(
                gcn: gcn(coupon2), secretHash: coupon2.secretHash,
                phoneHash: Hash256.sha256(Array("XIANGCHAIN-DEMO-PHONE\u{0}13900005678".utf8)).hex, city: "苏州"))
        let redeemSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "redeem coupon \(gcn(coupon1)) against box \(boxes[0].sscc)", signer: flagship.actor.key,
                    call: CrabCall.redeem(gcn: gcn(coupon1), sscc: boxes[0].sscc))
            ])
        let shipConsumerSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "ship box \(boxes[0].sscc) to the buyer", signer: flagship.actor.key,
                    call: CrabCall.ship(sscc: boxes[0].sscc, to: .consumer, carrier: cast.logistics.org))
            ])
        let deliverSteps: [DemoStep] =
            ([
                DemoStep(
                    label: "deliver box \(boxes[0].sscc)", signer: cast.logistics.key,
                    call: CrabCall.receive(sscc: boxes[0].sscc))
            ])

        // 8. Scans: the buyer's genuine crab in Shanghai; a ring in the store scanned in Suzhou and,
        //    cloned, in Beijing the same day; a forged ring that was never issued.
        let genuine = rings[0]
        let cloned = rings[8]
        let forged = generator.make(.sgtin(gtin: Self.gtin, serial: "YC\(yy)88888"), using: &rng)
        // Each scan is made by a phone of its own (the device hash a gateway would make of it): the
        // clone's two scans are two devices in two cities.
        func scan(_ code: GeneratedCode, _ city: String, by signer: String, _ label: String) -> DemoStep {
            let device = Hash256.sha256(Array("demo-device:\(label)".utf8)).hex
            return DemoStep(
                label: label, signer: signer,
                call: CrabCall.scan(
                    code: code.key.canonical, secretHash: code.secretHash, city: city, device: device, source: device))
        }
        let scanSteps1: [DemoStep] =
            ([
                scan(genuine, "上海", by: cast.consumer.key, "scan genuine ring in 上海"),
                scan(cloned, "苏州", by: cast.gateway.key, "scan ring \(cloned.key.serial ?? "") in 苏州"),
                scan(forged, "苏州", by: cast.gateway.key, "scan forged ring in 苏州"),
            ])
        let scanSteps2: [DemoStep] = ([scan(cloned, "北京", by: cast.gateway.key, "scan cloned ring in 北京")])

        // Submitted in ten rounds: the steps of a round do not depend on each other and share blocks.
        let commissionSteps = quotaCommissionSteps.filter { $0.method == "commission_rings" }
        let quotaSteps = quotaCommissionSteps.filter { $0.method == "grant_quota" }
        let couponSteps = issueSteps.filter { $0.method == "issue_coupons" }
        let regulatorSteps = issueSteps.filter { $0.method != "issue_coupons" }
        // The 三资 village's rounds ride along with the season's first ones.
        let villagePlan = DemoVillage(cast: cast, year: Int(season) ?? 2026)
        var village = try villagePlan.rounds()
        func also() -> [DemoStep] { village.isEmpty ? [] : village.removeFirst() }
        _ = try await run(registerSteps + openSteps + commissionSteps + also())
        _ = try await run(quotaSteps + allocateSteps + also())
        _ = try await run(tagSteps + also())
        _ = try await run(inspectSteps + packSteps + also())
        _ = try await run(shipSteps + regulatorSteps + also())
        _ = try await run(handOverSteps + also())
        _ = try await run(receiveSteps + also())
        _ = try await run(couponSteps + also())
        _ = try await run(sellSteps + also())
        _ = try await run([bookSteps[0], bookCoupon2] + also())
        _ = try await run(redeemSteps + [bookSteps[1]] + also())
        _ = try await run(shipConsumerSteps + scanSteps1[1...] + also())
        _ = try await run(deliverSteps + also())
        _ = try await run([scanSteps1[0]] + scanSteps2 + also())
        while !village.isEmpty { _ = try await run(also()) }
        func steps(_ prefixes: String...) -> [TxOutcome] {
            prefixes.compactMap { p in txs.first { $0.step.hasPrefix(p) } }
        }
        let gcn1 = gcn(coupon1)

        // The record.
        let frozenRing = rings[248]
        let recalledRing = rings[400]
        let liveCoupon = flagshipCoupons[2]
        // A code's check names the city its buyer is in: a check of the genuine ring from 苏州, a
        // day after its buyer scanned it in 上海, would rightly read two_cities.
        func highlight(
            _ name: String, _ code: GeneratedCode, _ shows: String, _ expect: String, _ outcomes: [TxOutcome],
            city: String = "苏州"
        ) -> DemoRecord.Highlight {
            let query = "code=\(DemoRecord.Highlight.strictEscape(code.uri))&city=\(DemoRecord.Highlight.strictEscape(city))"
            return DemoRecord.Highlight(
                name: name, shows: shows, expect: expect, uri: code.uri, shortCode: code.shortCode,
                verifyURL: "\(node.absoluteString)/v1/verify?\(query)", txids: outcomes.map(\.txid), city: city)
        }
        let highlights = [
            highlight(
                "genuine-ring", genuine,
                "a male crab from 张建国's lot \(lots[0].number), inspected, redeemed with coupon \(gcn1), delivered to a buyer in 上海 and scanned there",
                "genuine",
                steps(
                    "tag harvest lot \(lots[0].number)", "inspect lot \(lots[0].number)", "redeem coupon \(gcn1)", "deliver box",
                    "scan genuine ring"),
                city: "上海"),
            highlight(
                "redeemed-coupon", coupon1, "a 3.0-liang × 8 gift coupon, booked in 上海 and redeemed against box \(boxes[0].sscc)",
                "redeemed",
                steps(
                    "issue 5 coupons", "sell coupon \(gcn1)", "book redemption", "redeem coupon \(gcn1)",
                    "ship box \(boxes[0].sscc) to the buyer"),
                city: "上海"),
            highlight(
                "live-coupon", liveCoupon, "a sold gift coupon not yet redeemed", "genuine",
                steps("issue 5 coupons", "sell coupon \(gcn(liveCoupon))")),
            highlight(
                "forged-ring", forged, "a well-formed ring code that the association never commissioned",
                "unknown [never_issued]",
                steps("scan forged ring")),
            highlight(
                "cloned-ring", cloned, "a genuine ring whose code was copied: scanned in 苏州, then in 北京 within 24 h",
                "suspicious [two_cities, out_of_region]", steps("scan ring \(cloned.key.serial ?? "")", "scan cloned ring")),
            highlight(
                "frozen-lot-ring", frozenRing, "a crab of lot \(lots[2].number), frozen by the regulator",
                "suspicious [lot_frozen]",
                steps("inspect lot \(lots[2].number)", "freeze lot", "redeem against the frozen lot")),
            highlight(
                "recalled-lot-ring", recalledRing, "a crab of lot \(lots[3].number), which failed inspection and was recalled",
                "recalled", steps("inspect lot \(lots[3].number)", "recall lot")),
        ]

        var ringCodes: [DemoRecord.Code] = []
        let boxOf = Dictionary(
            boxes.flatMap { b in b.serials.map { ($0, b.sscc) } }, uniquingKeysWith: { a, _ in a })
        for (i, code) in rings.enumerated() {
            let n = i + 1
            let farm = cast.farms[min(i / 200, cast.farms.count - 1)]
            var state = "allocated to \(farm.actor.key), not yet on a crab"
            if let lot = lots.first(where: { $0.serials.contains(n) }), let c = crabs[n] {
                state = "\(c.sex.rawValue) \(c.weightG) g, lot \(lot.number)"
                if let sscc = boxOf[n] { state += ", box \(sscc)" }
            }
            ringCodes.append(DemoRecord.Code(key: code.key.canonical, uri: code.uri, shortCode: code.shortCode, state: state))
        }
        ringCodes.append(
            DemoRecord.Code(
                key: forged.key.canonical, uri: forged.uri, shortCode: forged.shortCode, state: "forged: never commissioned"))
        var couponCodes: [DemoRecord.Code] = []
        for (i, c) in flagshipCoupons.enumerated() {
            let state = i == 0 ? "redeemed" : i < 3 ? "sold" : "issued"
            couponCodes.append(
                DemoRecord.Code(
                    key: c.key.canonical, uri: c.uri, shortCode: c.shortCode,
                    state: "\(flagship.actor.key) 3.0 liang × 8, \(state)"))
        }
        for (i, c) in onlineCoupons.enumerated() {
            couponCodes.append(
                DemoRecord.Code(
                    key: c.key.canonical, uri: c.uri, shortCode: c.shortCode,
                    state: i < 2 ? "\(online.actor.key) 4.0 liang × 6, issued" : "refused (insufficient_stock): never issued"))
        }
        let boxCodes = boxes.enumerated().map { i, b in
            DemoRecord.Code(
                key: GS1Key.sscc(b.sscc).canonical, uri: DigitalLink.uri(.sscc(b.sscc), resolver: Self.resolver),
                shortCode: DigitalLink.shortCode(.sscc(b.sscc)),
                state: "\(b.serials.count) crabs of lot \(b.lot.number)"
                    + (i == 0 ? ", delivered to the buyer" : ", at \(b.shop.actor.key)"))
        }
        let lotCodes = lots.map { lot in
            let key = GS1Key.lot(gtin: Self.gtin, lot: lot.number)
            let state =
                lot.number == lots[2].number ? "frozen" : lot.pass ? "inspected: pass" : "inspected: fail, recalled"
            return DemoRecord.Code(
                key: key.canonical, uri: DigitalLink.uri(key, resolver: Self.resolver), shortCode: DigitalLink.shortCode(key),
                state: "\(lot.serials.count) crabs of \(lot.farm.actor.key), \(state)")
        }
        let elapsed = ContinuousClock.now - started
        let fmt = ISO8601DateFormatter()
        return DemoRecord(
            chainId: chain.chainId, node: node.absoluteString, season: season, seededAt: fmt.string(from: Date()),
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            story: Self.story(season: season, lots: lots.map(\.number)),
            counts: [
                "rings_commissioned": rings.count, "rings_allocated": 600, "rings_tagged": lots.map(\.serials.count).reduce(0, +),
                "lots": lots.count, "boxes": boxes.count, "coupons_issued": flagshipCoupons.count + 2, "coupons_redeemed": 1,
                "scans": scanSteps1.count + scanSteps2.count, "refused": txs.filter { $0.status == "failed" }.count,
                "transactions": txs.count,
            ],
            members: cast.members.map {
                DemoRecord.Member(
                    org: $0.org, role: $0.role.rawValue, name: $0.name, areaMu: $0.areaMu, zone: $0.zone,
                    salesRegion: $0.salesRegion)
            },
            identities: (cast.actors + [cast.deployer]).map {
                DemoRecord.Identity(
                    actor: $0.key, name: $0.name, role: $0.role.rawValue, org: $0.org, dir: layout.identityDir($0.identity).path)
            },
            highlights: highlights, transactions: txs, rings: ringCodes, coupons: couponCodes, boxes: boxCodes, lots: lotCodes,
            village: DemoRecord.Village(
                contract: DemoVillage.contract, village: villagePlan.village, name: DemoVillage.name,
                township: villagePlan.township,
                disclosureURL: "\(node.absoluteString)/village?v=\(villagePlan.village)",
                reviewURL: "\(node.absoluteString)/review", pondItem: DemoVillage.pondItem, pondLease: DemoVillage.pondLease,
                pondFarm: villagePlan.pondFarm.actor.key, pondFarmOrg: villagePlan.pondFarm.actor.org,
                clerkAccount: cast.village.key, reviewerAccount: cast.township.key))
    }

    static func story(season: String, lots: [String]) -> [String] {
        [
            "The association registers three farm households (lake pens and a pond), a testing lab, a cold-chain carrier and two shops, and opens season \(season) on 23 September: 300 crabs per mu, sizes 2.5–6.0 liang, coupons valid 90 days.",
            "It grants the shops 1,200 crabs of stock, commissions 600 rings (two batches of 300, secrets kept off chain as salted hashes) and allocates 200 to each household.",
            "The households tag four harvest lots (\(lots.joined(separator: ", "))) with sex and weight per crab; the lab passes three and fails \(lots[3]) (enrofloxacin), which the regulator recalls; it freezes \(lots[2]) pending a water re-test.",
            "Six gift boxes of 8 crabs are carried cold-chain to the flagship store and two boxes of 6 males to the online shop; coupons promise only inspected crabs a shop holds: the flagship store issues 5 coupons of 8 (the frozen lot's box does not count), the online shop 2 of 6, and its attempt to sell 360 more crabs than it holds is refused (insufficient_stock).",
            "A buyer in 上海 books coupon 1; the store redeems it against box 1 (a redemption against the frozen lot's box is refused, lot_frozen), ships it and the carrier delivers it; the buyer scans a ring.",
            "A ring still in the store is scanned in 苏州 and, cloned, in 北京 the same day (two_cities, out_of_region); a forged ring code is scanned in 苏州 (never_issued).",
        ]
    }
}
