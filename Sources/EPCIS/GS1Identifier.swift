/// Normalises GS1 identifiers to their canonical GS1 Digital Link form
/// (`https://id.gs1.org/<AI>/<value>...`), as the CBV 2.0 event hash requires: EPC URNs
/// (`urn:epc:id:sgtin:...`, `urn:epc:class:lgtin:...`) are converted, and Digital Link URIs
/// on any domain are rewritten to `id.gs1.org` without query string.
public enum GS1Identifier {
    /// The canonical Digital Link form of `value`, or nil when it is not a GS1 identifier this
    /// normaliser knows (the caller then keeps the value as it is).
    public static func canonicalDigitalLink(_ value: String) -> String? {
        if value.hasPrefix("urn:epc:id:") || value.hasPrefix("urn:epc:class:") || value.hasPrefix("urn:epc:idpat:") {
            return fromURN(value)
        }
        if value.hasPrefix("https://") || value.hasPrefix("http://") { return fromDigitalLink(value) }
        return nil
    }

    /// `value` in canonical form when it is a GS1 identifier, else unchanged: the form used to
    /// compare EPCs in queries.
    public static func normalised(_ value: String) -> String { canonicalDigitalLink(value) ?? value }

    static let base = "https://id.gs1.org/"

    static func fromURN(_ urn: String) -> String? {
        let parts = urn.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5 else { return nil }
        let kind = parts[2]
        let scheme = parts[3]
        let f = parts[4].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func digits(_ s: String) -> Bool { s.allSatisfy { $0.isASCII && $0.isNumber } }
        switch (kind, scheme) {
        case ("id", "sgtin"), ("class", "lgtin"), ("id", "upui"):
            guard f.count == 3, digits(f[0]), digits(f[1]), !f[1].isEmpty, f[0].count + f[1].count == 13 else { return nil }
            let gtin = withCheckDigit(String(f[1].prefix(1)) + f[0] + String(f[1].dropFirst()))
            let ai = scheme == "sgtin" ? "21" : scheme == "lgtin" ? "10" : "235"
            return base + "01/\(gtin)/\(ai)/\(encode(f[2]))"
        case ("idpat", "sgtin"):
            guard f.count == 3, digits(f[0]), digits(f[1]), !f[1].isEmpty, f[0].count + f[1].count == 13, f[2] == "*" else {
                return nil
            }
            return base + "01/" + withCheckDigit(String(f[1].prefix(1)) + f[0] + String(f[1].dropFirst()))
        case ("id", "sscc"):
            guard f.count == 2, digits(f[0]), digits(f[1]), !f[1].isEmpty, f[0].count + f[1].count == 17 else { return nil }
            return base + "00/" + withCheckDigit(String(f[1].prefix(1)) + f[0] + String(f[1].dropFirst()))
        case ("id", "sgln"):
            guard f.count == 3, digits(f[0]), digits(f[1]), f[0].count + f[1].count == 12 else { return nil }
            let gln = withCheckDigit(f[0] + f[1])
            return base + "414/\(gln)" + (f[2] == "0" || f[2].isEmpty ? "" : "/254/\(encode(f[2]))")
        case ("id", "pgln"):
            guard f.count == 2, digits(f[0]), digits(f[1]), f[0].count + f[1].count == 12 else { return nil }
            return base + "417/" + withCheckDigit(f[0] + f[1])
        case ("id", "grai"):
            guard f.count == 3, digits(f[0]), digits(f[1]), f[0].count + f[1].count == 12 else { return nil }
            return base + "8003/0" + withCheckDigit(f[0] + f[1]) + encode(f[2])
        case ("id", "giai"):
            guard f.count == 2, digits(f[0]) else { return nil }
            return base + "8004/" + f[0] + encode(f[1])
        case ("id", "gsrn"), ("id", "gsrnp"):
            guard f.count == 2, digits(f[0]), digits(f[1]), f[0].count + f[1].count == 17 else { return nil }
            return base + (scheme == "gsrn" ? "8018/" : "8017/") + withCheckDigit(f[0] + f[1])
        case ("id", "gdti"), ("id", "sgcn"):
            guard f.count == 3, digits(f[0]), digits(f[1]), f[0].count + f[1].count == 12 else { return nil }
            return base + (scheme == "gdti" ? "253/" : "255/") + withCheckDigit(f[0] + f[1]) + encode(f[2])
        case ("id", "cpi"):
            guard f.count == 3, digits(f[0]) else { return nil }
            return base + "8010/" + f[0] + encode(f[1]) + "/8011/" + encode(f[2])
        case ("id", "ginc"):
            guard f.count == 2, digits(f[0]) else { return nil }
            return base + "401/" + f[0] + encode(f[1])
        case ("id", "gsin"):
            guard f.count == 2, digits(f[0]), digits(f[1]), f[0].count + f[1].count == 16 else { return nil }
            return base + "402/" + withCheckDigit(f[0] + f[1])
        case ("id", "itip"):
            guard f.count == 5, digits(f[0]), digits(f[1]), !f[1].isEmpty, f[0].count + f[1].count == 13 else { return nil }
            let gtin = withCheckDigit(String(f[1].prefix(1)) + f[0] + String(f[1].dropFirst()))
            return base + "8006/\(gtin)\(f[2])\(f[3])/21/\(encode(f[4]))"
        default:
            return nil
        }
    }

    /// Primary keys by numeric AI and by their Digital Link short names.
    static let primaryKeys: [String: String] = [
        "00": "00", "01": "01", "253": "253", "255": "255", "401": "401", "402": "402", "414": "414", "417": "417",
        "8003": "8003", "8004": "8004", "8006": "8006", "8010": "8010", "8013": "8013", "8017": "8017", "8018": "8018",
        "sscc": "00", "gtin": "01", "gdti": "253", "gcn": "255", "ginc": "401", "gsin": "402", "gln": "414",
        "party": "417", "grai": "8003", "giai": "8004", "itip": "8006", "cpid": "8010", "gmn": "8013",
        "gsrnp": "8017", "gsrn": "8018",
    ]
    /// Key qualifiers and data attributes that may follow a primary key in the path.
    static let qualifiers: [String: String] = [
        "10": "10", "21": "21", "22": "22", "235": "235", "254": "254", "7023": "7023", "8011": "8011", "8019": "8019",
        "250": "250", "lot": "10", "ser": "21", "cpv": "22", "glnx": "254", "cpsn": "8011", "srin": "8019",
    ]

    static func fromDigitalLink(_ uri: String) -> String? {
        guard let schemeEnd = uri.firstRange(of: "://") else { return nil }
        var rest = uri[schemeEnd.upperBound...]
        if let q = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<q] }
        var segments = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count >= 3 else { return nil }
        segments.removeFirst()  // host
        guard let start = segments.firstIndex(where: { primaryKeys[$0] != nil }) else { return nil }
        let path = Array(segments[start...])
        guard path.count % 2 == 0, path.count >= 2 else { return nil }
        var out: [String] = []
        for i in stride(from: 0, to: path.count, by: 2) {
            let ai = i == 0 ? primaryKeys[path[i]] : qualifiers[path[i]]
            guard let ai, !path[i + 1].isEmpty else { return nil }
            out.append(ai)
            out.append(path[i + 1])
        }
        return base + out.joined(separator: "/")
    }

    /// Appends the GS1 mod-10 check digit.
    static func withCheckDigit(_ digits: String) -> String {
        var sum = 0
        for (i, c) in digits.reversed().enumerated() {
            let d = Int(c.asciiValue ?? 48) - 48
            sum += i % 2 == 0 ? d * 3 : d
        }
        return digits + String((10 - sum % 10) % 10)
    }

    /// Percent-decodes an EPC URN component and re-encodes it for a Digital Link path.
    static func encode(_ component: String) -> String {
        var bytes: [UInt8] = []
        let src = Array(component.utf8)
        var i = 0
        while i < src.count {
            if src[i] == UInt8(ascii: "%"), i + 2 < src.count,
                let v = UInt8(String(decoding: src[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                i += 3
            } else {
                bytes.append(src[i])
                i += 1
            }
        }
        var out = ""
        let hex = Array("0123456789ABCDEF")
        for b in bytes {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80, c.isLetter || c.isNumber || "-._~'".contains(c) {
                out.append(c)
            } else {
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}
