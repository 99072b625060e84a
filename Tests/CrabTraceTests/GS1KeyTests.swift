import ChainCore
import ChainTesting
import CrabTraceContract
import Testing

@Suite struct GS1KeyTests {
    @Test func checkDigitVectors() throws {
        // GS1 General Specifications examples.
        #expect(GS1Key.hasValidCheckDigit("09521234543213", length: 14))
        #expect(GS1Key.hasValidCheckDigit("106141411234567897", length: 18))
        #expect(GS1Key.hasValidCheckDigit("9521234000006", length: 13))
        #expect(GS1Key.hasValidCheckDigit("4006381333931", length: 13))  // EAN-13 on a Stabilo pen
        #expect(!GS1Key.hasValidCheckDigit("09521234543214", length: 14))
        #expect(GS1Key.appendingCheckDigit("0952123454321") == "09521234543213")
        #expect(try GS1Key.checkedGTIN("9521234543213") == "09521234543213")
        #expect(try GS1Key.checkedSSCC("106141411234567897") == "106141411234567897")
        #expect(try GS1Key.checkedGLN("9521234000006") == "9521234000006")
    }

    @Test func partsOfAKey() {
        let ring = GS1Key.sgtin(gtin: "09521234543213", serial: "R0001")
        #expect(ring.gtin == "09521234543213" && ring.serial == "R0001" && ring.gcnValue == nil)
        let lot = GS1Key.lot(gtin: "09521234543213", lot: "L1")
        #expect(lot.gtin == "09521234543213" && lot.serial == nil && lot.gcnValue == nil)
        let coupon = GS1Key.gcn("9521234000014123")
        #expect(coupon.gcnValue == "9521234000014123" && coupon.gtin == nil && coupon.serial == nil)
        for other in [GS1Key.sscc("106141411234567897"), .gln("9521234000006")] {
            #expect(other.gtin == nil && other.serial == nil && other.gcnValue == nil)
        }
    }

    @Test(arguments: [
        "09521234543214", "0952123454321", "0952123454321X", "", "095212345432130",
    ])
    func badGTINsFail(_ text: String) {
        #expect(errorCode { try GS1Key.checkedGTIN(text) } == "bad_code")
    }

    @Test func gcnNeedsCheckDigitAndAtMost12SerialDigits() throws {
        let base = try #require(GS1Key.appendingCheckDigit("952123400001"))
        #expect(try GS1Key.checkedGCN(base) == base)
        #expect(try GS1Key.checkedGCN(base + "123456789012") == base + "123456789012")
        #expect(errorCode { try GS1Key.checkedGCN(base + "1234567890123") } == "bad_code")
        let wrong = String(base.dropLast()) + String((Int(String(base.last!))! + 1) % 10)
        #expect(errorCode { try GS1Key.checkedGCN(wrong) } == "bad_code")
    }

    @Test func digitalLinkRoundTripsEveryKind() throws {
        let keys: [GS1Key] = [
            .sgtin(gtin: "09521234543213", serial: "A/1%x"), .sgtin(gtin: "09521234543213", serial: "12345"),
            .sscc("106141411234567897"), .gcn(try GS1Key.checkedGCN(GS1Key.appendingCheckDigit("952123400001")! + "42")),
            .gln("9521234000006"), .lot(gtin: "09521234543213", lot: "2026-L1(a)"),
        ]
        for key in keys {
            for secret in [nil, "K7Q2M9XZ"] {
                let uri = DigitalLink.uri(key, resolver: "id.xiangchain.example", secret: secret)
                #expect(uri.hasPrefix("https://id.xiangchain.example/"))
                #expect(try DigitalLink.parse(uri) == PrintedCode(key: key, secret: secret))
                #expect(
                    try DigitalLink.parse(DigitalLink.shortCode(key, secret: secret)) == PrintedCode(key: key, secret: secret))
                #expect(try DigitalLink.parse(key.canonical).key == key)
            }
        }
        // Percent-encoding as Digital Link requires.
        #expect(GS1Key.sgtin(gtin: "09521234543213", serial: "A/1%x").canonical == "01/09521234543213/21/A%2F1%25x")
        #expect(DigitalLink.percentEncode("A/1") == "A%2F1")
        // Any resolver and path prefix; lowercase secrets are normalised.
        let other = try DigitalLink.parse("http://example.com/some/prefix/01/09521234543213/21/12345?x=1&s=k7q2m9xz")
        #expect(other == PrintedCode(key: .sgtin(gtin: "09521234543213", serial: "12345"), secret: "K7Q2M9XZ"))
    }

    @Test(arguments: [
        "https://id.example/01/09521234543214/21/1",  // bad GTIN check digit
        "https://id.example/00/106141411234567898",  // bad SSCC check digit
        "https://id.example/01/09521234543213",  // GTIN alone
        "https://id.example/17/260101",  // unsupported AI
        "https://id.example/01/09521234543213/21/" + String(repeating: "A", count: 21),  // serial too long
        "https://id.example/01/09521234543213/21/%ZZ",  // bad percent-encoding
        "https://id.example/01/09521234543213/21/%00",  // control character
        "https://id.example/01/09521234543213/21/caf\u{e9}",  // non-ASCII
        "https://id.example/01/09521234543213/21/A?s=short",  // secret too short
        "https://id.example/01/09521234543213/21/A?s=K7Q2M9XZ&s=K7Q2M9XZ",  // two secrets
        "https://id.example/01/09521234543213/21/A?s=ILOU1234",  // not base32
        "(01)09521234543213(17)260101", "(99)123", "", "   ", "01//21/A", "javascript:alert(1)",
        "https://id.example/" + String(repeating: "0", count: 600),
    ])
    func hostileCodesFailWithBadCode(_ code: String) {
        #expect(errorCode { try DigitalLink.parse(code) } == "bad_code")
    }

    @Test func secretHashIsSaltedByTheKey() {
        let a = GS1Key.sgtin(gtin: "09521234543213", serial: "1")
        let b = GS1Key.sgtin(gtin: "09521234543213", serial: "2")
        #expect(CodeSecret.hash(key: a, secret: "K7Q2M9XZ") != CodeSecret.hash(key: b, secret: "K7Q2M9XZ"))
        #expect(CodeSecret.hash(key: a, secret: "k7q2m9xz") == CodeSecret.hash(key: a, secret: "K7Q2M9XZ"))
        // Test vector: SHA-256("XIANGCHAIN-CODE-V1" 00 "01/09521234543213/21/1" 00 "K7Q2M9XZ").
        var bytes = Array("XIANGCHAIN-CODE-V1".utf8) + [0] + Array("01/09521234543213/21/1".utf8) + [0]
        bytes += Array("K7Q2M9XZ".utf8)
        #expect(CodeSecret.hash(key: a, secret: "K7Q2M9XZ") == Hash256.sha256(bytes).hex)
    }

    @Test func generatorIsDeterministicWithASeededSource() throws {
        var r1 = SeededGenerator(seed: 7)
        var r2 = SeededGenerator(seed: 7)
        let g = CodeGenerator(resolver: "id.xiangchain.example")
        let a = try g.rings(gtin: "09521234543213", serials: 1...20, prefix: "R", width: 4, using: &r1)
        let b = try g.rings(gtin: "09521234543213", serials: 1...20, prefix: "R", width: 4, using: &r2)
        #expect(a == b)
        #expect(Set(a.map(\.secret)).count == 20)
        #expect(a[0].uri.hasPrefix("https://id.xiangchain.example/01/09521234543213/21/R0001?s="))
        for c in a {
            let p = try DigitalLink.parse(c.uri)
            #expect(CodeSecret.hash(key: p.key, secret: p.secret ?? "") == c.secretHash)
            #expect(try DigitalLink.parse(c.shortCode) == p)
        }
        let coupons = try g.coupons(base12: "952123400001", serials: 1...3, using: &r1)
        #expect(coupons.map(\.key.kind) == ["gcn", "gcn", "gcn"])
        var sys = SystemRandomNumberGenerator()
        #expect(CodeSecret.generate(using: &sys).count == CodeSecret.defaultLength)
        #expect(errorCode { try g.coupons(base12: "95212340000", serials: 1...3, using: &r1) } == "bad_args")
    }
}
