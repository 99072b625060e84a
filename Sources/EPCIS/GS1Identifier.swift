/// Normalises GS1 identifiers to the constrained canonical GS1 Digital Link form the CBV 2.0
/// event hash requires (`https://id.gs1.org/<AI>/<value>...`): every EPC URI scheme of the Tag
/// Data Standard (`urn:epc:id:...`), the EPC class URI (`urn:epc:class:lgtin:...`) and the EPC
/// pattern URIs that name a class (`urn:epc:idpat:sgtin|grai|gdti|sgcn|cpi|itip|upui:...`) are
/// converted; GS1 Digital Link URIs on any host are rewritten to `id.gs1.org` with numeric AIs,
/// 14-digit GTINs, no query string and only the finest level of identification. Values that are
/// not such identifiers (or break the Tag Data Standard's syntax) give nil. Rules and test
/// vectors in `docs/epcis.md`.
public enum GS1Identifier {
    /// The canonical Digital Link form of `value`, or nil when it is not a GS1 identifier this
    /// normaliser knows (the caller then keeps the value as it is).
    public static func canonicalDigitalLink(_ value: String) -> String? {
        if value.hasPrefix("urn:epc:") { return EPCURN.canonical(value) }
        if value.hasPrefix("https://") || value.hasPrefix("http://") { return DigitalLink.canonical(value) }
        return nil
    }

    /// `value` in canonical form when it is a GS1 identifier, else unchanged: the form used to
    /// compare EPCs in queries.
    public static func normalised(_ value: String) -> String { canonicalDigitalLink(value) ?? value }

    static let base = "https://id.gs1.org/"

    /// Appends the GS1 mod-10 check digit (GS1 General Specifications §7.9.1).
    static func withCheckDigit(_ digits: String) -> String {
        var sum = 0
        for (i, c) in digits.utf8.reversed().enumerated() {
            let d = Int(c) - 48
            sum += i % 2 == 0 ? d * 3 : d
        }
        return digits + String((10 - sum % 10) % 10)
    }

    static func isDigits(_ s: Substring, _ count: ClosedRange<Int>) -> Bool {
        count.contains(s.utf8.count) && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// The GS1 AI encodable character set 82 (GS1 General Specifications figure 7.11-1).
    static func isCSET82(_ b: UInt8) -> Bool {
        switch b {
        case 0x21, 0x22, 0x25...0x2F, 0x30...0x3F, 0x41...0x5A, 0x5F, 0x61...0x7A: return true
        default: return false
        }
    }

    /// The character set 39 of CPIs: `#`, `-`, `/`, digits, capital letters.
    static func isCSET39(_ b: UInt8) -> Bool {
        b == 0x23 || b == 0x2D || b == 0x2F || (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A)
    }

    /// The characters of an AI value, decoding `%XX` escapes; nil when an escape is malformed, a
    /// character is outside `allowed` or the length outside `length`.
    /// `literal` says which characters may appear unescaped.
    static func decode(
        _ s: Substring, length: ClosedRange<Int>, allowed: (UInt8) -> Bool, literal: (UInt8) -> Bool
    ) -> [UInt8]? {
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x25 {
                guard i + 2 < b.count, let hi = hexValue(b[i + 1]), let lo = hexValue(b[i + 2]) else { return nil }
                let v = hi << 4 | lo
                guard allowed(v) else { return nil }
                out.append(v)
                i += 3
            } else {
                guard allowed(b[i]), literal(b[i]) else { return nil }
                out.append(b[i])
                i += 1
            }
            guard out.count <= length.upperBound else { return nil }
        }
        return length.contains(out.count) ? out : nil
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x37
        case 0x61...0x66: return c - 0x57
        default: return nil
        }
    }

    /// Characters an AI value keeps literally in a canonical Digital Link URI; every other
    /// character is percent-encoded with upper-case hex (`!` → `%21`, `/` → `%2F`, ...).
    static func isLiteral(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x27 || b == 0x2D
            || b == 0x2E || b == 0x3B || b == 0x3D || b == 0x5F
    }

    static func encode(_ bytes: [UInt8]) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if isLiteral(b) {
                out.append(b)
            } else {
                out += [0x25, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// EPC URIs of the Tag Data Standard (pure identity, class and pattern URIs) to Digital Link.
enum EPCURN {
    static func canonical(_ urn: String) -> String? {
        let kinds: [(prefix: String, kind: Kind)] = [
            ("urn:epc:id:", .id), ("urn:epc:class:", .classURI), ("urn:epc:idpat:", .pattern),
        ]
        guard let (prefix, kind) = kinds.first(where: { urn.hasPrefix($0.prefix) }) else { return nil }
        let rest = urn.dropFirst(prefix.count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let scheme = String(rest[..<colon])
        let body = rest[rest.index(after: colon)...]
        switch kind {
        case .id: return identity(scheme, body)
        case .classURI: return scheme == "lgtin" ? gtinKeyed(body, qualifier: "10", maxLength: 20) : nil
        case .pattern: return pattern(scheme, body)
        }
    }

    enum Kind { case id, classURI, pattern }

    typealias G = GS1Identifier

    /// `body` split at its first `count - 1` dots.
    static func fields(_ body: Substring, _ count: Int) -> [Substring]? {
        let f = body.split(separator: ".", maxSplits: count - 1, omittingEmptySubsequences: false)
        return f.count == count ? f : nil
    }

    /// A GS1 Company Prefix of 6–12 digits and a reference that fills the key to `total` digits.
    static func companyAndReference(_ cp: Substring, _ ref: Substring, total: Int) -> Bool {
        G.isDigits(cp, 6...12) && G.isDigits(ref, 0...total) && cp.utf8.count + ref.utf8.count == total
    }

    static func cset82(_ s: Substring, _ length: ClosedRange<Int>) -> [UInt8]? {
        // In an EPC URI `"`, `%`, `&`, `/`, `<`, `>` and `?` appear only escaped.
        G.decode(s, length: length, allowed: G.isCSET82) { !"\"%&/<>?".utf8.contains($0) }
    }

    /// The GTIN-14 of an SGTIN-like `cp.itemref`: indicator digit first, check digit last.
    static func gtin(_ cp: Substring, _ itemref: Substring) -> String? {
        guard companyAndReference(cp, itemref, total: 13), let indicator = itemref.first else { return nil }
        return G.withCheckDigit(String(indicator) + cp + itemref.dropFirst())
    }

    /// `cp.itemref.value` → `01/<gtin>/<qualifier>/<value>` (SGTIN 21, LGTIN 10, UPUI 235).
    static func gtinKeyed(_ body: Substring, qualifier: String, maxLength: Int) -> String? {
        guard let f = fields(body, 3), let gtin = gtin(f[0], f[1]), let value = cset82(f[2], 1...maxLength) else {
            return nil
        }
        return G.base + "01/\(gtin)/\(qualifier)/" + G.encode(value)
    }

    /// A 13-digit key (GLN, GDTI, GRAI, SGCN, PGLN) from `cp.ref`.
    static func key13(_ cp: Substring, _ ref: Substring) -> String? {
        companyAndReference(cp, ref, total: 12) ? G.withCheckDigit(String(cp + ref)) : nil
    }

    static func identity(_ scheme: String, _ body: Substring) -> String? {
        switch scheme {
        case "sgtin": return gtinKeyed(body, qualifier: "21", maxLength: 20)
        case "upui": return gtinKeyed(body, qualifier: "235", maxLength: 28)
        case "sscc":
            guard let f = fields(body, 2), companyAndReference(f[0], f[1], total: 17), let ext = f[1].first else {
                return nil
            }
            return G.base + "00/" + G.withCheckDigit(String(ext) + f[0] + f[1].dropFirst())
        case "sgln":
            guard let f = fields(body, 3), let gln = key13(f[0], f[1]), let ext = cset82(f[2], 1...20) else { return nil }
            return G.base + "414/" + gln + (ext == [0x30] ? "" : "/254/" + G.encode(ext))
        case "pgln":
            guard let f = fields(body, 2), let gln = key13(f[0], f[1]) else { return nil }
            return G.base + "417/" + gln
        case "grai":
            guard let f = fields(body, 3), let key = key13(f[0], f[1]), let serial = cset82(f[2], 1...16) else { return nil }
            return G.base + "8003/0" + key + G.encode(serial)
        case "gdti":
            guard let f = fields(body, 3), let key = key13(f[0], f[1]), let serial = cset82(f[2], 0...17) else { return nil }
            return G.base + "253/" + key + G.encode(serial)
        case "sgcn":
            guard let f = fields(body, 3), let key = key13(f[0], f[1]), G.isDigits(f[2], 1...12) else { return nil }
            return G.base + "255/" + key + f[2]
        case "giai", "ginc":
            guard let f = fields(body, 2), G.isDigits(f[0], 6...12),
                let ref = cset82(f[1], 1...(30 - f[0].utf8.count))
            else { return nil }
            return G.base + (scheme == "giai" ? "8004/" : "401/") + f[0] + G.encode(ref)
        case "gsrn", "gsrnp":
            guard let f = fields(body, 2), companyAndReference(f[0], f[1], total: 17) else { return nil }
            return G.base + (scheme == "gsrn" ? "8018/" : "8017/") + G.withCheckDigit(String(f[0] + f[1]))
        case "gsin":
            guard let f = fields(body, 2), companyAndReference(f[0], f[1], total: 16) else { return nil }
            return G.base + "402/" + G.withCheckDigit(String(f[0] + f[1]))
        case "cpi":
            guard let f = fields(body, 3), let cpid = cpid(f[0], f[1]), G.isDigits(f[2], 1...12) else { return nil }
            return G.base + "8010/" + cpid + "/8011/" + f[2]
        case "itip":
            guard let f = fields(body, 5), let gtin = gtin(f[0], f[1]), G.isDigits(f[2], 2...2), G.isDigits(f[3], 2...2),
                let serial = cset82(f[4], 1...20)
            else { return nil }
            return G.base + "8006/\(gtin)\(f[2])\(f[3])/21/" + G.encode(serial)
        default: return nil
        }
    }

    /// `cp.cpref` of a CPI: company prefix and a part reference in character set 39.
    static func cpid(_ cp: Substring, _ ref: Substring) -> String? {
        guard G.isDigits(cp, 6...12),
            let part = G.decode(ref, length: 1...(30 - cp.utf8.count), allowed: G.isCSET39, literal: { $0 != 0x23 && $0 != 0x2F })
        else { return nil }
        return G.encode(Array(cp.utf8) + part)
    }

    /// Pattern URIs that name a class of objects (every serial of one GTIN, GRAI asset type, GDTI
    /// document type, coupon, CPI part or ITIP piece) become that class's key; other patterns
    /// (several wildcards, or keys without a class level such as SSCC or GIAI) are not GS1 keys.
    static func pattern(_ scheme: String, _ body: Substring) -> String? {
        switch scheme {
        case "sgtin", "upui":
            guard let f = fields(body, 3), f[2] == "*", let gtin = gtin(f[0], f[1]) else { return nil }
            return G.base + "01/" + gtin
        case "grai", "gdti", "sgcn":
            guard let f = fields(body, 3), f[2] == "*", let key = key13(f[0], f[1]) else { return nil }
            return G.base + (scheme == "grai" ? "8003/0" : scheme == "gdti" ? "253/" : "255/") + key
        case "cpi":
            guard let f = fields(body, 3), f[2] == "*", let cpid = cpid(f[0], f[1]) else { return nil }
            return G.base + "8010/" + cpid
        case "itip":
            guard let f = fields(body, 5), f[4] == "*", let gtin = gtin(f[0], f[1]), G.isDigits(f[2], 2...2),
                G.isDigits(f[3], 2...2)
            else { return nil }
            return G.base + "8006/\(gtin)\(f[2])\(f[3])"
        default: return nil
        }
    }
}

/// GS1 Digital Link URIs (any host, numeric AIs or their short names) to the constrained
/// canonical form: `https://id.gs1.org`, primary key and the finest key qualifier only.
enum DigitalLink {
    typealias G = GS1Identifier

    /// The syntax of an AI value in a Digital Link path.
    enum Format: Sendable {
        /// Exactly `n` digits.
        case digits(Int)
        /// A GTIN of 8, 12, 13 or 14 digits, zero-padded to 14.
        case gtin
        /// Character set 82, `length` characters.
        case text(ClosedRange<Int>)
        /// `n` digits and a serial of character set 82 (GDTI, GRAI) or of digits (GCN).
        case digitsThen(Int, ClosedRange<Int>, numeric: Bool)
        /// Character set 39, `length` characters (CPID).
        case cset39(ClosedRange<Int>)
        /// `length` digits.
        case numeric(ClosedRange<Int>)

        /// The value's characters (percent-escapes decoded), or nil when it does not match.
        func parse(_ s: Substring) -> [UInt8]? {
            switch self {
            case .digits(let n): return G.isDigits(s, n...n) ? Array(s.utf8) : nil
            case .numeric(let length): return G.isDigits(s, length) ? Array(s.utf8) : nil
            case .gtin:
                guard [8, 12, 13, 14].contains(s.utf8.count), G.isDigits(s, 8...14) else { return nil }
                return Array((String(repeating: "0", count: 14 - s.utf8.count) + s).utf8)
            case .text(let length): return G.decode(s, length: length, allowed: G.isCSET82, literal: { _ in true })
            case .cset39(let length): return G.decode(s, length: length, allowed: G.isCSET39, literal: { _ in true })
            case .digitsThen(let n, let length, let numeric):
                guard G.isDigits(s.prefix(n), n...n) else { return nil }
                let rest = s.dropFirst(n)
                if numeric { return G.isDigits(rest, length) ? Array(s.utf8) : nil }
                return G.decode(rest, length: length, allowed: G.isCSET82, literal: { _ in true }).map {
                    Array(s.prefix(n).utf8) + $0
                }
            }
        }
    }

    /// A primary key: its value's syntax and the qualifier sequences that may follow it, in path order.
    struct Key: Sendable {
        let format: Format
        let qualifiers: [[String]]
    }

    /// The keys (and qualifiers) of the constrained canonical form: 00, 01 [21|10|235], 253, 255,
    /// 401, 402, 414 [254], 417, 8003, 8004, 8006 [21|10], 8010 [8011], 8017, 8018.
    static let keys: [String: Key] = [
        "00": Key(format: .digits(18), qualifiers: [[]]),
        "01": Key(format: .gtin, qualifiers: [["22", "10", "21"], ["235"]]),
        "253": Key(format: .digitsThen(13, 0...17, numeric: false), qualifiers: [[]]),
        "255": Key(format: .digitsThen(13, 0...12, numeric: true), qualifiers: [[]]),
        "401": Key(format: .text(1...30), qualifiers: [[]]),
        "402": Key(format: .digits(17), qualifiers: [[]]),
        "414": Key(format: .digits(13), qualifiers: [["254"]]),
        "417": Key(format: .digits(13), qualifiers: [[]]),
        "8003": Key(format: .digitsThen(14, 0...16, numeric: false), qualifiers: [[]]),
        "8004": Key(format: .text(1...30), qualifiers: [[]]),
        "8006": Key(format: .digits(18), qualifiers: [["22", "10", "21"]]),
        "8010": Key(format: .cset39(1...30), qualifiers: [["8011"]]),
        "8017": Key(format: .digits(18), qualifiers: [[]]),
        "8018": Key(format: .digits(18), qualifiers: [[]]),
    ]

    static let qualifierFormats: [String: Format] = [
        "22": .text(1...20), "10": .text(1...20), "21": .text(1...20), "235": .text(1...28), "254": .text(1...20),
        "8011": .numeric(1...12),
    ]

    /// Short names of GS1 Digital Link URI syntax 1.x for the keys and qualifiers above.
    static let shortNames: [String: String] = [
        "sscc": "00", "gtin": "01", "gdti": "253", "gcn": "255", "ginc": "401", "gsin": "402", "gln": "414",
        "party": "417", "grai": "8003", "giai": "8004", "itip": "8006", "cpid": "8010", "gsrnp": "8017", "gsrn": "8018",
        "cpv": "22", "lot": "10", "ser": "21", "glnx": "254", "cpsn": "8011",
    ]

    static func ai(_ segment: Substring) -> String { shortNames[String(segment)] ?? String(segment) }

    static func canonical(_ uri: String) -> String? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        var rest = uri[schemeEnd.upperBound...]
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        var segments = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3 else { return nil }
        segments.removeFirst()  // the host
        if segments.last?.isEmpty == true { segments.removeLast() }  // one trailing slash
        // The primary key is the first key AI whose value starts with four digits (a GS1
        // Company Prefix); path segments before it are the host's own.
        for start in segments.indices where start + 1 < segments.count {
            let name = ai(segments[start])
            guard keys[name] != nil, G.isDigits(segments[start + 1].prefix(4), 4...4) else { continue }
            if let out = canonical(key: name, Array(segments[start...])) { return out }
        }
        return nil
    }

    static func canonical(key name: String, _ path: [Substring]) -> String? {
        guard path.count % 2 == 0, let key = keys[name], let value = key.format.parse(path[1]) else { return nil }
        var found: [(ai: String, value: [UInt8])] = []
        for i in stride(from: 2, to: path.count, by: 2) {
            let q = ai(path[i])
            guard let format = qualifierFormats[q], let v = format.parse(path[i + 1]) else { return nil }
            found.append((q, v))
        }
        // Qualifiers must follow one of the key's allowed sequences, in order, each once.
        let names = found.map(\.ai)
        guard
            key.qualifiers.contains(where: { seq in
                var at = seq.startIndex
                for n in names {
                    guard let i = seq[at...].firstIndex(of: n) else { return false }
                    at = i + 1
                }
                return true
            })
        else { return nil }
        // The finest level only: no consumer product variant, no lot when there is a serial.
        var kept = found.filter { $0.ai != "22" }
        if kept.contains(where: { $0.ai == "21" }) { kept.removeAll { $0.ai == "10" } }
        var out = G.base + name + "/" + G.encode(value)
        for q in kept { out += "/" + q.ai + "/" + G.encode(q.value) }
        return out
    }
}
