import ChainCore

/// A code as printed on a ring or coupon: the object's GS1 key and, when present, its secret.
public struct PrintedCode: Sendable, Hashable {
    /// The object's key.
    public let key: GS1Key
    /// The printed secret (upper-case Crockford base32), if the code carried one.
    public let secret: String?

    /// Creates a code.
    public init(key: GS1Key, secret: String?) {
        self.key = key
        self.secret = secret
    }
}

/// GS1 Digital Link URIs and the short form a consumer can type.
///
/// - URI: `https://<resolver>/01/<gtin14>/21/<serial>?s=<secret>`, `/00/<sscc>`, `/255/<gcn>`,
///   `/414/<gln>`, `/01/<gtin14>/10/<lot>`. Serial and lot are percent-encoded (everything but
///   `A–Z a–z 0–9 - . _ ~`). Any resolver host and path prefix is accepted when parsing.
/// - Short code: the GS1 human-readable element string, then `#` and the secret, e.g.
///   `(01)09521234543213(21)A1#K7Q2M9XZ` or `(255)9521234000016123#K7Q2M9XZ`.
/// - A bare path (`01/09521234543213/21/A1`, with or without leading slash, optional `?s=`) is also accepted.
public enum DigitalLink {
    /// Longest code accepted by `parse`, in bytes.
    public static let maxCodeLength = 512

    /// The Digital Link URI of `key` on `resolver`, with `?s=secret` when given.
    public static func uri(_ key: GS1Key, resolver: String, secret: String? = nil) -> String {
        "https://\(resolver)/\(key.canonical)" + (secret.map { "?s=\($0)" } ?? "")
    }

    /// The typeable short code of `key`, with `#secret` when given.
    public static func shortCode(_ key: GS1Key, secret: String? = nil) -> String {
        let hri =
            switch key {
            case .sgtin(let g, let s): "(01)\(g)(21)\(s)"
            case .sscc(let s): "(00)\(s)"
            case .gcn(let c): "(255)\(c)"
            case .gln(let l): "(414)\(l)"
            case .lot(let g, let l): "(01)\(g)(10)\(l)"
            }
        return hri + (secret.map { "#\($0)" } ?? "")
    }

    /// Percent-encodes an AI value as Digital Link requires.
    public static func percentEncode(_ value: String) -> String {
        var out = ""
        for b in value.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + Hex.encode([b]).uppercased()
            }
        }
        return out
    }

    static func percentDecode(_ value: Substring) throws(ChainError) -> String {
        var bytes: [UInt8] = []
        var it = Array(value.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = Hex.decode(String(decoding: it.prefix(2), as: UTF8.self)), v.count == 1 else {
                    throw ChainError(.badCode, "bad percent-encoding")
                }
                bytes.append(v[0])
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw ChainError(.badCode, "code values must be ASCII") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a Digital Link URI, a short code or a bare path into the key and secret.
    /// Fails with `bad_code` on anything malformed: too long, non-ASCII, wrong AI, bad check digit.
    public static func parse(_ text: String) throws(ChainError) -> PrintedCode {
        let trimmed = text.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { throw ChainError(.badCode, "empty code") }
        guard trimmed.utf8.count <= maxCodeLength else {
            throw ChainError(.badCode, "a code is at most \(maxCodeLength) bytes")
        }
        guard trimmed.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ChainError(.badCode, "a code is printable ASCII without spaces")
        }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("https://") || lower.hasPrefix("http://") {
            let rest = trimmed.drop(while: { $0 != ":" }).dropFirst(3)
            guard let slash = rest.firstIndex(of: "/") else { throw ChainError(.badCode, "the URI has no path") }
            let host = rest[..<slash]
            guard !host.isEmpty, host.utf8.allSatisfy({ isHostByte($0) }) else {
                throw ChainError(.badCode, "bad resolver host")
            }
            return try parsePath(rest[rest.index(after: slash)...], allowPrefix: true)
        }
        if trimmed.hasPrefix("(") { return try parseElementString(trimmed) }
        return try parsePath(trimmed.hasPrefix("/") ? trimmed.dropFirst() : trimmed[...], allowPrefix: false)
    }

    static func isHostByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"): true
        default: false
        }
    }

    static func parsePath(_ text: Substring, allowPrefix: Bool) throws(ChainError) -> PrintedCode {
        var path = text
        var secret: String?
        if let hash = path.firstIndex(of: "#") {
            secret = try normalizeSecret(path[path.index(after: hash)...])
            path = path[..<hash]
        }
        if let q = path.firstIndex(of: "?") {
            let query = path[path.index(after: q)...]
            path = path[..<q]
            for param in query.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = param.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts[0] == "s" else { continue }
                guard secret == nil, parts.count == 2 else { throw ChainError(.badCode, "one secret \"s\" per code") }
                secret = try normalizeSecret(parts[1][...])
            }
        }
        let segs = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segs.count <= 16, segs.allSatisfy({ !$0.isEmpty }) else { throw ChainError(.badCode, "malformed path") }
        let s = segs
        if s.count >= 4, s[s.count - 4] == "01", s[s.count - 2] == "21" || s[s.count - 2] == "10" {
            guard allowPrefix || s.count == 4 else { throw ChainError(.badCode, "unexpected path segments") }
            let gtin = try GS1Key.checkedGTIN(String(s[s.count - 3]))
            let value = try percentDecode(s[s.count - 1])
            if s[s.count - 2] == "21" {
                return PrintedCode(key: .sgtin(gtin: gtin, serial: try GS1Key.checkedSerial(value)), secret: secret)
            }
            return PrintedCode(key: .lot(gtin: gtin, lot: try GS1Key.checkedLot(value)), secret: secret)
        }
        guard s.count >= 2, allowPrefix || s.count == 2 else {
            throw ChainError(.badCode, "the path names no GS1 key this chain tracks")
        }
        let value = String(s[s.count - 1])
        let key: GS1Key
        switch s[s.count - 2] {
        case "00": key = .sscc(try GS1Key.checkedSSCC(value))
        case "255": key = .gcn(try GS1Key.checkedGCN(value))
        case "414": key = .gln(try GS1Key.checkedGLN(value))
        case "01": throw ChainError(.badCode, "a GTIN alone names a product, not an object; add /21/<serial>")
        default: throw ChainError(.badCode, "unsupported application identifier \"\(s[s.count - 2])\"")
        }
        return PrintedCode(key: key, secret: secret)
    }

    static func parseElementString(_ text: String) throws(ChainError) -> PrintedCode {
        var body = text[...]
        var secret: String?
        if let hash = body.firstIndex(of: "#") {
            secret = try normalizeSecret(body[body.index(after: hash)...])
            body = body[..<hash]
        }
        func take(_ ai: String) -> Bool {
            guard body.hasPrefix("(\(ai))") else { return false }
            body = body.dropFirst(ai.count + 2)
            return true
        }
        let key: GS1Key
        if take("01") {
            let gtin = try GS1Key.checkedGTIN(String(body.prefix(14)))
            body = body.dropFirst(14)
            if take("21") {
                key = .sgtin(gtin: gtin, serial: try GS1Key.checkedSerial(String(body)))
            } else if take("10") {
                key = .lot(gtin: gtin, lot: try GS1Key.checkedLot(String(body)))
            } else {
                throw ChainError(.badCode, "(01) must be followed by (21) serial or (10) lot")
            }
        } else if take("00") {
            key = .sscc(try GS1Key.checkedSSCC(String(body)))
        } else if take("255") {
            key = .gcn(try GS1Key.checkedGCN(String(body)))
        } else if take("414") {
            key = .gln(try GS1Key.checkedGLN(String(body)))
        } else {
            throw ChainError(.badCode, "unsupported application identifier")
        }
        return PrintedCode(key: key, secret: secret)
    }

    static func normalizeSecret(_ text: Substring) throws(ChainError) -> String {
        let s = text.uppercased()
        guard (CodeSecret.minLength...CodeSecret.maxLength).contains(s.utf8.count),
            s.utf8.allSatisfy({ CodeSecret.alphabet.utf8.contains($0) })
        else {
            throw ChainError(
                .badCode, "a secret is \(CodeSecret.minLength)–\(CodeSecret.maxLength) characters of Crockford base32")
        }
        return s
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
