/// A JSON value parsed strictly from bytes, as contracts see their arguments.
///
/// Numbers keep their literal text so that every node reads exactly the same value, whatever
/// floating-point library it has; `int64` gives integers exactly. Objects never hold duplicate keys.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number's literal text, already checked against the JSON grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The boolean, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number as an exact integer, if it is written without fraction or exponent and fits 64 bits.
    public var int64Value: Int64? {
        guard case .number(let literal) = self else { return nil }
        return Int64(literal)
    }

    /// The number as a Double (for display and non-consensus use).
    public var doubleValue: Double? {
        guard case .number(let literal) = self else { return nil }
        return Double(literal)
    }

    /// Member lookup on objects; nil for anything else.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// An integer value.
    public static func int(_ value: Int64) -> JSONValue { .number(String(value)) }
    /// An integer value.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }
}

extension JSONValue {
    /// Compact JSON with object keys sorted by their UTF-8 bytes: the same value always
    /// serialises to the same bytes.
    public var canonicalBytes: [UInt8] {
        var out = [UInt8]()
        write(into: &out)
        return out
    }

    /// `canonicalBytes` as a String.
    public var canonicalString: String { String(decoding: canonicalBytes, as: UTF8.self) }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Keys compared by their UTF-8 bytes in place (no array per comparison), members taken
            // in that order (no lookup per key).
            let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (i, member) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        var s = s
        // Made contiguous first if it is not (a no-op for native strings).
        s.withUTF8 { writeString(utf8: $0, into: &out) }
    }

    /// The bytes of a string between quotes, escaped: the runs between escapes are copied whole
    /// (scanning through the generic `String.UTF8View`, then copying a string with an escape, such
    /// as an envelope's PEM certificate, byte by byte, took 1.7 % of a pipeline run; now 0.75 %).
    static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var run = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
            run = i + 1
            switch b {
            case UInt8(ascii: "\""): out.append(0x5c); out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5c); out.append(0x5c)
            case 0x08: out.append(0x5c); out.append(UInt8(ascii: "b"))
            case 0x0c: out.append(0x5c); out.append(UInt8(ascii: "f"))
            case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
            case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5c); out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: "\\u00".utf8)
                out.append(contentsOf: Hex.encode([b]).utf8)
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        out.append(UInt8(ascii: "\""))
    }
}

/// A strict JSON parser (RFC 8259) for bytes that cross a trust boundary.
///
/// Refuses: invalid UTF-8, duplicate object keys, nesting deeper than `maxDepth`, trailing
/// content, lone surrogates, control characters in strings, and leading zeros in numbers.
public struct JSONParser {
    /// Deepest nesting of arrays and objects accepted.
    public var maxDepth: Int

    /// Creates a parser with the given depth limit.
    public init(maxDepth: Int = 64) { self.maxDepth = maxDepth }

    /// Parses one JSON value that spans all of `bytes` (surrounding whitespace allowed).
    public func parse<Bytes: Collection>(_ bytes: Bytes) throws(ChainError) -> JSONValue where Bytes.Element == UInt8 {
        var cursor = Cursor(bytes: Array(bytes), maxDepth: maxDepth)
        cursor.skipWhitespace()
        let value = try cursor.parseValue(depth: 0)
        cursor.skipWhitespace()
        guard cursor.atEnd else { throw cursor.fail("unexpected content after the JSON value") }
        return value
    }

    struct Cursor {
        let bytes: [UInt8]
        let maxDepth: Int
        var pos = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        var atEnd: Bool { pos >= bytes.count }

        func fail(_ message: String) -> ChainError {
            ChainError(.malformedJSON, "\(message) at byte \(pos)")
        }

        mutating func skipWhitespace() {
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x09, 0x0a, 0x0d: pos += 1
                default: return
                }
            }
        }

        mutating func expect(_ literal: String, _ value: JSONValue) throws(ChainError) -> JSONValue {
            let lit = Array(literal.utf8)
            guard pos + lit.count <= bytes.count, Array(bytes[pos..<pos + lit.count]) == lit else {
                throw fail("invalid literal")
            }
            pos += lit.count
            return value
        }

        mutating func parseValue(depth: Int) throws(ChainError) -> JSONValue {
            guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
            guard pos < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[pos] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw fail("unexpected character")
            }
        }

        mutating func parseObject(depth: Int) throws(ChainError) -> JSONValue {
            pos += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                skipWhitespace()
                let value = try parseValue(depth: depth + 1)
                guard members.updateValue(value, forKey: key) == nil else { throw fail("duplicate key \"\(key)\"") }
                skipWhitespace()
                guard pos < bytes.count else { throw fail("unterminated object") }
                if bytes[pos] == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                if bytes[pos] == UInt8(ascii: "}") {
                    pos += 1
                    return .object(members)
                }
                throw fail("expected ',' or '}'")
            }
        }

        mutating func parseArray(depth: Int) throws(ChainError) -> JSONValue {
            pos += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard pos < bytes.count else { throw fail("unterminated array") }
                if bytes[pos] == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                if bytes[pos] == UInt8(ascii: "]") {
                    pos += 1
                    return .array(items)
                }
                throw fail("expected ',' or ']'")
            }
        }

        mutating func parseHex4() throws(ChainError) -> UInt32 {
            guard pos + 4 <= bytes.count, let raw = Hex.decode(String(decoding: bytes[pos..<pos + 4], as: UTF8.self))
            else { throw fail("invalid \\u escape") }
            pos += 4
            return UInt32(raw[0]) << 8 | UInt32(raw[1])
        }

        mutating func parseString() throws(ChainError) -> String {
            pos += 1
            // Most strings hold no escape: validated and made straight from the input's bytes.
            var end = pos
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 {
                end += 1
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                guard let s = String(validating: bytes[pos..<end], as: UTF8.self) else {
                    throw fail("invalid UTF-8 in string")
                }
                pos = end + 1
                return s
            }
            var out = [UInt8]()
            out.reserveCapacity(end - pos + 16)
            while true {
                guard pos < bytes.count else { throw fail("unterminated string") }
                let b = bytes[pos]
                if b == UInt8(ascii: "\"") {
                    pos += 1
                    break
                }
                if b < 0x20 { throw fail("control character in string") }
                if b != UInt8(ascii: "\\") {
                    // The run up to the next quote, escape or control character, copied at once
                    // (a PEM certificate has an escaped newline every 64 characters).
                    var end = pos + 1
                    while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"),
                        bytes[end] >= 0x20
                    {
                        end += 1
                    }
                    out.append(contentsOf: bytes[pos..<end])
                    pos = end
                    continue
                }
                pos += 1
                guard pos < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5c)
                case UInt8(ascii: "/"): out.append(0x2f)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard pos + 2 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                        else { throw fail("lone high surrogate") }
                        pos += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("invalid low surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("lone low surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid code point") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail("invalid escape")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
            return s
        }

        mutating func parseNumber() throws(ChainError) -> JSONValue {
            let start = pos
            func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
            if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("invalid number") }
            if bytes[pos] == UInt8(ascii: "0") {
                pos += 1
                if pos < bytes.count, isDigit(bytes[pos]) { throw fail("leading zero in number") }
            } else {
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
                pos += 1
                guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("invalid fraction") }
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
                pos += 1
                if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
                guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("invalid exponent") }
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            }
            guard pos - start <= 64 else { throw fail("number literal longer than 64 characters") }
            return .number(String(decoding: bytes[start..<pos], as: UTF8.self))
        }
    }
}
