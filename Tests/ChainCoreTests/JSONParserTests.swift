import Testing

@testable import ChainCore

@Suite struct JSONParserTests {
    func parse(_ s: String) throws -> JSONValue { try JSONParser().parse(Array(s.utf8)) }

    @Test func parsesEveryKindAndKeepsNumberLiterals() throws {
        let v = try parse(#" {"a": [1, -2.5e3, true, false, null, "x\u00e9\n\ud83e\udd80"], "b": {}} "#)
        #expect(v["a"]?.arrayValue?.count == 6)
        #expect(v["a"]?.arrayValue?[1] == .number("-2.5e3"))
        #expect(v["a"]?.arrayValue?[5].stringValue == "xé\n🦀")
        #expect(v["b"] == .object([:]))
    }

    @Test func canonicalFormSortsKeysAndIsStable() throws {
        let v = try parse(#"{"b":1,"a":{"d":"\u0001","c":[]}}"#)
        #expect(v.canonicalString == #"{"a":{"c":[],"d":"\u0001"},"b":1}"#)
        #expect(try parse(v.canonicalString) == v)
    }

    @Test func integersAreExactAndOverflowIsNotAnInteger() throws {
        #expect(try parse("9223372036854775807").int64Value == Int64.max)
        #expect(try parse("9223372036854775808").int64Value == nil)
        #expect(try parse("1.0").int64Value == nil)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", "-", "1e", "+1", "NaN", "tru",
        "\"unterminated", "\"tab\there\"", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1}{", "[1] 2",
        "{\"a\":1,\"a\":2}", "\"\\u12\"",
    ])
    func refusesMalformed(_ text: String) {
        #expect(throws: ChainError.self) { try parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: ChainError.self) { try JSONParser().parse([0x22, 0xff, 0xfe, 0x22]) }
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: ChainError.self) { try parse(deep) }
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(throws: Never.self) { try parse(ok) }
    }

    @Test func hugeNestingDoesNotCrash() {
        let bomb = String(repeating: "[", count: 200_000)
        #expect(throws: ChainError.self) { try parse(bomb) }
    }
}

/// The canonical bytes are hashed into the chain (transaction bodies, state records): a faster
/// writer must give exactly the bytes of the simple one. `ReferenceJSON` is the earlier writer,
/// kept here as the specification, and random values are compared with it.
@Suite struct CanonicalJSONReferenceTests {
    enum ReferenceJSON {
        static func bytes(_ v: JSONValue) -> [UInt8] {
            var out = [UInt8]()
            write(v, into: &out)
            return out
        }

        static func write(_ v: JSONValue, into out: inout [UInt8]) {
            switch v {
            case .null: out.append(contentsOf: Array("null".utf8))
            case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
            case .number(let n): out.append(contentsOf: Array(n.utf8))
            case .string(let s): writeString(s, into: &out)
            case .array(let items):
                out.append(UInt8(ascii: "["))
                for (i, item) in items.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    write(item, into: &out)
                }
                out.append(UInt8(ascii: "]"))
            case .object(let members):
                out.append(UInt8(ascii: "{"))
                let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                for (i, key) in keys.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    writeString(key, into: &out)
                    out.append(UInt8(ascii: ":"))
                    write(members[key]!, into: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
        }

        static func writeString(_ s: String, into out: inout [UInt8]) {
            out.append(UInt8(ascii: "\""))
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5c, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5c, 0x5c])
                case 0x08: out.append(contentsOf: [0x5c, UInt8(ascii: "b")])
                case 0x0c: out.append(contentsOf: [0x5c, UInt8(ascii: "f")])
                case 0x0a: out.append(contentsOf: [0x5c, UInt8(ascii: "n")])
                case 0x0d: out.append(contentsOf: [0x5c, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5c, UInt8(ascii: "t")])
                case 0x00..<0x20:
                    out.append(contentsOf: Array("\\u00".utf8))
                    out.append(contentsOf: Array(Hex.encode([b]).utf8))
                default: out.append(b)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Strings mixing ASCII, escapes, controls, non-ASCII and astral characters; keys that differ
    /// in byte order and Unicode order (`é` < `z` in neither's favour: U+00E9 sorts after "z" by bytes).
    static let pieces = [
        "", "a", "z", "Z", "é", "中", "🦀", "\"", "\\", "\n", "\t", "\u{1}", "\u{1f}", "\u{7f}", "/", "ring", "ä", "a\u{308}",
    ]

    static func randomString(_ rng: inout some RandomNumberGenerator) -> String {
        (0..<Int.random(in: 0...4, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func randomValue(depth: Int, _ rng: inout some RandomNumberGenerator) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .int(Int64.random(in: -1_000_000...1_000_000, using: &rng))
        case 3: return .string(randomString(&rng))
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(depth: depth + 1, &rng) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) { members[randomString(&rng)] = randomValue(depth: depth + 1, &rng) }
            return .object(members)
        }
    }

    @Test func theWriterGivesTheReferenceBytesAndTheParserReadsThemBack() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let v = Self.randomValue(depth: 0, &rng)
            let bytes = v.canonicalBytes
            #expect(bytes == ReferenceJSON.bytes(v), "\(String(decoding: ReferenceJSON.bytes(v), as: UTF8.self))")
            #expect(try JSONParser().parse(bytes) == v)
        }
    }

    @Test func stringsAreWrittenAsTheReferenceWritesThemWhereverTheEscapesFall() throws {
        let cases = [
            "", "plain", "\"", "\"first", "last\\", "\n\n\t", "a\u{0}b", "\u{1f}\u{7f}", "中\"文\"🦀",
            "-----BEGIN CERTIFICATE-----\n" + String(repeating: "MIIBkTCB+6ADAgECAhQ=", count: 8)
                + "\n-----END CERTIFICATE-----\n",
            String(repeating: "\\", count: 100), String(repeating: "ab\u{8}", count: 50),
        ]
        for s in cases {
            var ours: [UInt8] = []
            JSONValue.writeString(s, into: &ours)
            var reference: [UInt8] = []
            ReferenceJSON.writeString(s, into: &reference)
            #expect(ours == reference, "\(s.debugDescription)")
            #expect(try JSONParser().parse(ours) == .string(s))
        }
    }

    @Test func stringsWithAndWithoutEscapesParseAlike() throws {
        let cases: [(String, String)] = [
            (#""plain""#, "plain"), (#""中文 🦀""#, "中文 🦀"), (#""a\"b""#, "a\"b"), (#""\u4e2d\n""#, "中\n"),
            (#""tail\\""#, "tail\\"), (#""""#, ""), (#""\/""#, "/"),
        ]
        for (text, value) in cases { #expect(try JSONParser().parse(Array(text.utf8)) == .string(value)) }
        // Invalid UTF-8 is refused on either path: with and without an escape in the string.
        #expect(throws: ChainError.self) { try JSONParser().parse([0x22, 0x61, 0xc3, 0x22]) }
        #expect(throws: ChainError.self) { try JSONParser().parse([0x22, 0x5c, 0x6e, 0xc3, 0x22]) }
        #expect(throws: ChainError.self) { try JSONParser().parse([0x22, 0x61, 0x0a, 0x22]) }
        // After an escape, runs of plain bytes are copied whole: a PEM certificate's lines, and
        // the runs' ends — a raw control character, the input's end — still refused.
        let pem =
            "-----BEGIN CERTIFICATE-----\n" + String(repeating: "MIIBkTCB+6ADAgECAhQ=", count: 8)
            + "\n-----END CERTIFICATE-----\n"
        #expect(try JSONParser().parse(JSONValue.string(pem).canonicalBytes) == .string(pem))
        #expect(try JSONParser().parse(Array(#""a\nbc\tdé中\"🦀""#.utf8)) == .string("a\nbc\tdé中\"🦀"))
        #expect(throws: ChainError.self) { try JSONParser().parse([0x22, 0x5c, 0x6e, 0x61, 0x62, 0x01, 0x22]) }
        #expect(throws: ChainError.self) { try JSONParser().parse([0x22, 0x5c, 0x6e, 0x61, 0x62, 0x63]) }
    }
}
