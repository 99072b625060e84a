import ChainCore
import Execution

/// A stored record: a JSON object.
typealias Record = [String: JSONValue]

/// Readers for the crab contract's argument shapes; every failure is `bad_args` naming the field
/// (or `bad_code` for a malformed GS1 key).
extension Arguments {
    /// A required 64-hex-character hash, lowercased.
    func hash64(_ name: String) throws(ChainError) -> String {
        guard let s = self[name]?.stringValue, let h = Self.parseHash64(s) else {
            throw ChainError(.badArgs, "\"\(name)\" must be 64 hex characters (a salted SHA-256 hash)")
        }
        return h
    }

    /// An optional 64-hex-character hash.
    func optionalHash64(_ name: String) throws(ChainError) -> String? {
        guard let v = self[name], v != .null else { return nil }
        return try hash64(name)
    }

    /// A required place name (a city), 1–`maxLength` code points that all display as themselves:
    /// refused (`bad_args`) are control and format characters (bidi overrides and isolates,
    /// zero-width characters), line and paragraph separators, unassigned, private-use and
    /// noncharacter code points, and U+FFFD (what text that was not valid UTF-8 was replaced by).
    /// The gateway refuses the same before signing; this holds for whoever signs.
    func city(_ name: String, maxLength: Int = 64) throws(ChainError) -> String {
        let s = try string(name, maxLength: maxLength)
        guard Self.isDisplayable(s) else {
            throw ChainError(
                .badArgs,
                "\"\(name)\" holds a control, format (bidi, zero-width), separator, unassigned, private-use or replacement character"
            )
        }
        return s
    }

    /// An optional place name (see `city`).
    func optionalCity(_ name: String, maxLength: Int = 64) throws(ChainError) -> String? {
        guard self[name] != nil, self[name] != .null else { return nil }
        return try city(name, maxLength: maxLength)
    }

    /// Whether every code point of `s` displays as itself (see `city`).
    static func isDisplayable(_ s: String) -> Bool {
        s.unicodeScalars.allSatisfy { u in
            switch u.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate: return false
            default: return !u.properties.isNoncharacterCodePoint && u != "\u{FFFD}"
            }
        }
    }

    static func parseHash64(_ s: String) -> String? {
        let h = s.lowercased()
        return Hex.isLowercase(h, byteCount: 32) ? h : nil
    }

    /// A required identifier: 1–`maxLength` characters of `A–Z a–z 0–9 . _ -`.
    func identifier(_ name: String, maxLength: Int = 64) throws(ChainError) -> String {
        let s = try string(name, maxLength: maxLength)
        guard Self.isIdentifier(s) else {
            throw ChainError(.badArgs, "\"\(name)\" may only hold letters, digits, \".\", \"_\" and \"-\"")
        }
        return s
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty
            && s.utf8.allSatisfy { b in
                switch b {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"): true
                default: false
                }
            }
    }

    /// An optional integer within `range`.
    func optionalInt(_ name: String, in range: ClosedRange<Int64>) throws(ChainError) -> Int64? {
        guard let v = self[name], v != .null else { return nil }
        return try int(name, in: range)
    }

    /// A required array of 1...`maxItems` elements.
    func array(_ name: String, maxItems: Int) throws(ChainError) -> [JSONValue] {
        guard let a = self[name]?.arrayValue, !a.isEmpty, a.count <= maxItems else {
            throw ChainError(.badArgs, "\"\(name)\" must be an array of 1–\(maxItems) items")
        }
        return a
    }

    /// A required array of 1...`maxItems` strings of 1...`maxLength` characters, without duplicates.
    func stringList(_ name: String, maxItems: Int, maxLength: Int = 64) throws(ChainError) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        for v in try array(name, maxItems: maxItems) {
            guard let s = v.stringValue, !s.isEmpty, s.unicodeScalars.count <= maxLength else {
                throw ChainError(.badArgs, "\"\(name)\" items must be strings of 1–\(maxLength) characters")
            }
            guard seen.insert(s).inserted else { throw ChainError(.badArgs, "\"\(name)\" lists \"\(s)\" twice") }
            out.append(s)
        }
        return out
    }

    /// A required boolean.
    func bool(_ name: String) throws(ChainError) -> Bool {
        guard let b = self[name]?.boolValue else { throw ChainError(.badArgs, "\"\(name)\" must be true or false") }
        return b
    }

    /// A required choice among `values`.
    func choice(_ name: String, _ values: Set<String>) throws(ChainError) -> String {
        guard let s = self[name]?.stringValue, values.contains(s) else {
            throw ChainError(.badArgs, "\"\(name)\" must be one of \(values.sorted().joined(separator: ", "))")
        }
        return s
    }

    /// A required GTIN argument, as GTIN-14.
    func gtin(_ name: String = "gtin") throws(ChainError) -> String {
        try GS1Key.checkedGTIN(try string(name, maxLength: 14))
    }

    /// An optional JSON object of at most `maxBytes` canonical bytes.
    func smallObject(_ name: String, maxBytes: Int) throws(ChainError) -> [String: JSONValue]? {
        guard let o = try optionalObject(name) else { return nil }
        guard JSONValue.object(o).canonicalBytes.count <= maxBytes else {
            throw ChainError(.badArgs, "\"\(name)\" is larger than \(maxBytes) bytes")
        }
        return o
    }

    /// A liang size with at most one decimal (e.g. 3.5), as tenths of a liang, within 1–200 tenths.
    func tenthsOfLiang(_ name: String) throws(ChainError) -> Int64 {
        guard let v = self[name], let t = Self.tenths(v) else {
            throw ChainError(.badArgs, "\"\(name)\" must be a size in liang with at most one decimal, 0.1–20")
        }
        return t
    }

    static func tenths(_ v: JSONValue) -> Int64? {
        guard case .number(let literal) = v else { return nil }
        let parts = literal.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = Int64(parts[0]), whole >= 0, whole <= 20 else { return nil }
        var t = whole * 10
        if parts.count == 2 {
            guard parts[1].count == 1, let d = Int64(parts[1]) else { return nil }
            t += d
        }
        return (1...200).contains(t) ? t : nil
    }
}

extension Dictionary where Key == String, Value == JSONValue {
    func int(_ k: String) -> Int64 { self[k]?.int64Value ?? 0 }
    func str(_ k: String) -> String? { self[k]?.stringValue }
    func flag(_ k: String) -> Bool { self[k]?.boolValue ?? false }
}

/// Formats tenths of a liang as a JSON number literal ("3.5", "4.0").
func liangJSON(_ tenths: Int64) -> JSONValue { .number("\(tenths / 10).\(tenths % 10)") }
