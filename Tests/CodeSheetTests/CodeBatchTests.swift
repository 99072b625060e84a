import ChainCore
import CodeSheet
import CrabTraceContract
import Testing

/// A batch of ring or coupon codes: its sheet, commissioning arguments (hashes only) and secrets CSV.
@Suite struct CodeBatchTests {
    @Test func ringBatchCommissionsHashesOnlyAndKeepsTheSecretsInTheCSV() throws {
        var rng = SystemRandomNumberGenerator()
        let batch = try CodeBatch.rings(
            gtin: "9521234543213", serials: 7...9, prefix: "R", width: 6, resolver: "id.xiangchain.example", using: &rng)
        #expect(batch.kind == .rings && batch.codes.count == 3)
        #expect(batch.codes[0].key == .sgtin(gtin: "09521234543213", serial: "R000007"))
        // The commissioning args are those of crab.commission_rings, with the GTIN-14.
        let expected = CrabCall.commissionRings(gtin: "09521234543213", rings: batch.codes.map(CrabCall.Ring.init))
        #expect(batch.commission == expected.args)
        #expect(
            batch.commission["rings"]?.arrayValue?.first?["secretHash"]?.stringValue
                == CodeSecret.hash(key: batch.codes[0].key, secret: batch.codes[0].secret))
        let commission = batch.commission.canonicalString
        let lines = batch.csv.split(separator: "\n")
        #expect(lines.count == 4 && lines[0] == "uri,short_code,key,secret")
        for (line, code) in zip(lines.dropFirst(), batch.codes) {
            #expect(line == "\(code.uri),\(code.shortCode),\(code.key.canonical),\(code.secret)")
            #expect(!commission.contains(code.secret))
        }
        // Without a caption each label shows its key; with one, title and labels carry it.
        let plain = batch.sheet()
        #expect(plain.title == "rings 7–9" && plain.labels.map(\.caption) == batch.codes.map(\.key.canonical))
        #expect(plain.labels.map(\.uri) == batch.codes.map(\.uri))
        let captioned = batch.sheet(caption: "阳澄湖大闸蟹")
        #expect(captioned.title == "阳澄湖大闸蟹 — rings 7–9")
        #expect(captioned.labels[0].caption == "阳澄湖大闸蟹 · 01/09521234543213/21/R000007")
        #expect(try plain.svgPages().count == 1)
    }

    @Test func couponBatchGivesTheCouponListOfIssueCoupons() throws {
        var rng = SystemRandomNumberGenerator()
        let batch = try CodeBatch.coupons(
            base12: "952123454321", serials: 1...2, width: 6, resolver: "id.xiangchain.example", using: &rng)
        #expect(batch.kind == .coupons && batch.codes.count == 2)
        #expect(batch.commission == CrabCall.couponList(batch.codes.map(CrabCall.Coupon.init)))
        #expect(batch.commission["coupons"]?.arrayValue?.count == 2)
        #expect(batch.sheet().title == "coupons 1–2")
        let badBase = #expect(throws: ChainError.self) {
            try CodeBatch.coupons(base12: "1", serials: 1...2, width: 6, resolver: "x", using: &rng)
        }
        #expect(badBase?.code.rawValue == "bad_args")
        let badGTIN = #expect(throws: ChainError.self) {
            try CodeBatch.rings(gtin: "09521234543214", serials: 1...2, width: 6, resolver: "x", using: &rng)
        }
        #expect(badGTIN?.code.rawValue == "bad_code")
    }
}
