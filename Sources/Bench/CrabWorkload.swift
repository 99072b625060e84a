import ChainClient
import ChainCore
import CrabTraceContract
import Foundation
import Identity
import Node

/// The crab workload of `xiangchain bench`: a season is set up before the measured window
/// (members, quota, rings commissioned and allocated, lots tagged, and inspected crabs shipped to
/// the merchant in boxes of 100 to back its coupons), then the measured mix per 20
/// transactions is 10 consumer scans of tagged rings, 4 coupon issues (5 coupons each), 3 harvest
/// taggings (a new lot of 5 rings each), 2 lab inspections and 1 ring commissioning (5 rings).
/// With `scansOnly` (the `scans` workload) the measured calls are all consumer scans, spread over
/// one tagged ring per 50 scans (at least 1,000), and the merchant's stock is not made.
enum CrabWorkload {
    static let gtin = "09521234543213"
    static let season = "bench"
    static let setupLots = 50
    static let ringsPerSetupLot = 20
    /// Crabs per stock lot and box shipped to the merchant before the window.
    static let ringsPerStockBox = 100

    /// Sets the season up on the running network and returns the measured calls, unsigned.
    static func prepare(
        layout: NetworkLayout, client: ChainClient, chain: String, count: Int, scansOnly: Bool = false
    ) async throws -> [BenchCall] {
        func identity(_ name: String, _ org: String, _ role: Role) throws -> SigningIdentity {
            let dir = layout.identityDir(name)
            if !FileManager.default.fileExists(atPath: dir.path) { try layout.issueIdentity(org: org, role: role, name: name) }
            return try SigningIdentity(directory: dir)
        }
        let association = try identity("bench-association", "org0", .association)
        let farm = try identity("bench-farm", "org1", .farm)
        let merchant = try identity("bench-merchant", "org2", .merchant)
        let lab = try identity("bench-lab", "org0", .lab)
        let consumer = try identity("bench-consumer", "org0", .consumer)

        let tags = scansOnly ? 0 : (count * 3 + 19) / 20
        let measuredRings = tags * 5
        // Scans only: about 50 scans per ring (well under the season's limit of 1,000).
        let lots = scansOnly ? max(setupLots, (count / 50 + ringsPerSetupLot - 1) / ringsPerSetupLot) : setupLots
        let setupRings = lots * ringsPerSetupLot
        // The measured issues promise `count` crabs (4 of 20 transactions, 5 coupons of 1 crab):
        // the merchant must hold that many inspected crabs.
        let stockBoxes = scansOnly ? 0 : max(1, (count + ringsPerStockBox - 1) / ringsPerStockBox)
        let stockRings = stockBoxes * ringsPerStockBox
        var rng = SystemRandomNumberGenerator()
        // The generator takes at most `maxBatch` serials per call (a long `--rate max` run needs more).
        let generator = CodeGenerator(resolver: "id.xiangchain.example")
        let total = setupRings + stockRings + measuredRings
        var codes: [GeneratedCode] = []
        for first in stride(from: 1, through: total, by: CodeGenerator.maxBatch) {
            codes += try generator.rings(
                gtin: gtin, serials: first...min(total, first + CodeGenerator.maxBatch - 1), prefix: "B", width: 7, using: &rng)
        }
        let serials = codes.map { $0.key.serial ?? "" }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let day: Int64 = 86_400_000

        // 1. Members, the season, the merchant's stock.
        try await submitAndWait(
            [
                call(
                    association,
                    CrabCall.registerMember(
                        org: "org1", role: .farm, name: "bench farm", licence: "B-1", areaMu: 100_000, zone: "阳澄湖")),
                call(
                    association,
                    CrabCall.registerMember(
                        org: "org2", role: .merchant, name: "bench merchant", licence: "B-2", salesRegion: ["苏州", "上海"])),
                call(association, CrabCall.registerMember(org: "org0", role: .lab, name: "bench lab", licence: "B-3")),
            ], client: client, chain: chain)
        try await submitAndWait(
            [
                call(
                    association,
                    CrabCall.openSeason(
                        season: season, opensAt: now - day, closesAt: now + 60 * day, capPerMu: 600, couponValidityDays: 90,
                        sizes: [LiangSize(tenths: 30), LiangSize(tenths: 40)], maxScans: 1000, scanWindowHours: 24,
                        lateScanDays: 60, shipWithinDays: 3))
            ], client: client, chain: chain)
        if !scansOnly {
            try await submitAndWait(
                [
                    call(association, CrabCall.grantQuota(season: season, org: "org2", crabs: Int64(count * 4 / 20 * 5 + 100)))
                ], client: client, chain: chain)
        }
        // 2. Every ring commissioned and allocated to the farm, 500 per transaction.
        let chunks = stride(from: 0, to: codes.count, by: 500).map { $0..<min(codes.count, $0 + 500) }
        try await submitAndWait(
            chunks.map { r in
                call(association, CrabCall.commissionRings(gtin: gtin, rings: r.map { CrabCall.Ring(codes[$0]) }))
            }, client: client, chain: chain)
        try await submitAndWait(
            chunks.map { r in
                call(
                    association, CrabCall.allocateRings(org: "org1", season: season, gtin: gtin, serials: r.map { serials[$0] }))
            }, client: client, chain: chain)
        // 3. Lots tagged before the window, to be scanned and inspected during it.
        func tag(_ lot: String, _ range: Range<Int>) -> BenchCall {
            call(
                farm,
                CrabCall.tagHarvest(
                    season: season, gtin: gtin, lot: lot, pond: "P1", zone: "阳澄湖", harvestedAt: now - 3_600_000,
                    rings: range.map {
                        CrabCall.TaggedRing(serial: serials[$0], sex: $0 % 2 == 0 ? .male : .female, weightG: 220)
                    }
                ))
        }
        try await submitAndWait(
            (0..<lots).map { l in tag("S\(l)", (l * ringsPerSetupLot)..<((l + 1) * ringsPerSetupLot)) }, client: client,
            chain: chain)
        // 4. The merchant's stock: lots K<n> of 100 crabs tagged, inspected, boxed, shipped and received.
        let stock = (0..<stockBoxes).map { b in
            let first = setupRings + b * ringsPerStockBox
            let ref = "30952129" + String(format: "%09d", b + 1)
            return (lot: "K\(b)", range: first..<(first + ringsPerStockBox), sscc: GS1Key.appendingCheckDigit(ref) ?? ref)
        }
        try await submitAndWait(stock.map { tag($0.lot, $0.range) }, client: client, chain: chain)
        try await submitAndWait(
            stock.map {
                call(
                    lab,
                    CrabCall.inspectLot(
                        gtin: gtin, lot: $0.lot, result: .pass, reportHash: Hash256.sha256(Array($0.lot.utf8)).hex))
            }, client: client, chain: chain)
        try await submitAndWait(
            stock.map { call(farm, CrabCall.packBox(sscc: $0.sscc, gtin: gtin, serials: $0.range.map { serials[$0] })) },
            client: client, chain: chain)
        try await submitAndWait(
            stock.map { call(farm, CrabCall.ship(sscc: $0.sscc, to: .member("org2"))) }, client: client, chain: chain)
        try await submitAndWait(
            stock.map { call(merchant, CrabCall.receive(sscc: $0.sscc)) }, client: client, chain: chain)

        // The measured mix.
        var out: [BenchCall] = []
        out.reserveCapacity(count)
        var nextTag = setupRings + stockRings
        var coupon = 0
        var fresh = 0
        let cities = ["苏州", "上海"]
        for i in 0..<count {
            // Ring n of scan i keeps one city: setupRings is even and 7919 odd, so n and i share parity.
            switch scansOnly ? 0 : i % 20 {
            case 0..<10:
                let n = (i * 7919) % setupRings
                out.append(
                    call(
                        consumer,
                        CrabCall.scan(code: codes[n].key.canonical, secretHash: codes[n].secretHash, city: cities[i % 2])))
            case 10..<14:
                let coupons = (0..<5).map { k -> CrabCall.Coupon in
                    let body = String(format: "952123400027%07d", coupon * 5 + k)
                    let key = GS1Key.gcn((GS1Key.appendingCheckDigit(String(body.prefix(12))) ?? "") + body.dropFirst(12))
                    return CrabCall.Coupon(
                        gcn: key.gcnValue ?? "", secretHash: Hash256.sha256(Array("coupon-\(key.canonical)".utf8)).hex)
                }
                coupon += 1
                out.append(
                    call(
                        merchant,
                        CrabCall.issueCoupons(
                            season: season, coupons: coupons, sizeLiang: LiangSize(tenths: 30), crabsPerCoupon: 1)
                    ))
            case 14..<17:
                out.append(tag("M\(i)", nextTag..<min(nextTag + 5, codes.count)))
                nextTag += 5
            case 17..<19:
                out.append(
                    call(
                        lab,
                        CrabCall.inspectLot(
                            gtin: gtin, lot: "S\(i % setupLots)", result: .pass,
                            reportHash: Hash256.sha256(Array("report-\(i)".utf8)).hex)))
            default:
                let serial = "N\(fresh)-\(UUID().uuidString.prefix(8))"
                fresh += 1
                out.append(
                    call(
                        association,
                        CrabCall.commissionRings(
                            gtin: gtin, rings: [CrabCall.Ring(serial: serial, secretHash: Hash256.sha256(Array(serial.utf8)).hex)]
                        )))
            }
        }
        return out
    }

    static func call(_ signer: SigningIdentity, _ call: ContractCall) -> BenchCall {
        BenchCall(signer: signer, contract: call.contract, method: call.method, args: call.args)
    }

    /// Submits setup transactions (up to 100 per batch request) and waits until each is committed
    /// successfully; a refused or failed setup step stops the benchmark with its reason.
    static func submitAndWait(_ calls: [BenchCall], client: ChainClient, chain: String) async throws {
        let signed = try calls.map { c in
            try c.signer.transaction(chain: chain, contract: c.contract, method: c.method, args: c.args, nonce: "setup-\(UUID())")
        }
        // In waves the mempool's admission limit takes (at least a block's worth): a long run's
        // setup has thousands of heavy transactions (a million rings), which commit slowly.
        for waveStart in stride(from: 0, to: signed.count, by: setupWave) {
            let wave = Array(signed[waveStart..<min(signed.count, waveStart + setupWave)])
            for start in stride(from: 0, to: wave.count, by: 100) {
                var part = Array(wave[start..<min(wave.count, start + 100)])
                var retries = 0
                while !part.isEmpty {
                    var again: [SignedTransaction] = []
                    for (tx, result) in zip(part, try await client.submitBatch(part)) {
                        guard let error = result.error else { continue }
                        // A full mempool is the admission limit working: wait for commits and retry.
                        guard error.code == .mempoolFull, retries < 600 else {
                            throw ChainError(.benchSetupFailed, "setup refused: \(error)")
                        }
                        again.append(tx)
                    }
                    part = again
                    if !part.isEmpty {
                        retries += 1
                        try await Task.sleep(for: .milliseconds(500))
                    }
                }
            }
            for tx in wave {
                let outcome = try await client.waitForCommit(tx.txid, timeout: .seconds(300))
                guard outcome.status == "committed" else {
                    throw ChainError(
                        .benchSetupFailed, "setup step failed: \(outcome.error.map(String.init(describing:)) ?? outcome.status)")
                }
            }
        }
    }

    /// Most setup transactions submitted before waiting for them to commit.
    static let setupWave = 1_000
}
