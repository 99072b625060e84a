import ChainCore
import Testing

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
