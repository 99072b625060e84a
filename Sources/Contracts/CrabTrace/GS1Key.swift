import ChainCore

/// A GS1 identification key of one of the objects the crab contract tracks, validated
/// (lengths, digits, check digits, AI 82 character set).
///
/// `canonical` is the object's GS1 Digital Link path without the leading slash and without a
/// resolver (`01/09521234543213/21/A1`); it names the object in state keys and salts code secrets.
public enum GS1Key: Sendable, Hashable {
    /// A ring (one crab): GTIN-14 plus serial (AI 01 + AI 21).
    case sgtin(gtin: String, serial: String)
    /// A box or parcel: SSCC-18 (AI 00).
    case sscc(String)
    /// A coupon: GS1 Global Coupon Number (AI 255): 13 digits with check digit, then an optional serial of up to 12 digits.
    case gcn(String)
    /// A location (farm, warehouse): GLN-13 (AI 414).
    case gln(String)
    /// A lot of one harvest: GTIN-14 plus lot number (AI 01 + AI 10).
    case lot(gtin: String, lot: String)

    /// Longest AI 21 serial.
    public static let maxSerialLength = 20
    /// Longest AI 10 lot number.
    public static let maxLotLength = 20

    /// The Digital Link path without leading slash, e.g. `00/106141411234567897`.
    public var canonical: String {
        switch self {
        case .sgtin(let g, let s): "01/\(g)/21/\(DigitalLink.percentEncode(s))"
        case .sscc(let s): "00/\(s)"
        case .gcn(let c): "255/\(c)"
        case .gln(let l): "414/\(l)"
        case .lot(let g, let l): "01/\(g)/10/\(DigitalLink.percentEncode(l))"
        }
    }

    /// A short name of the key type: `sgtin`, `sscc`, `gcn`, `gln` or `lot`.
    public var kind: String {
        switch self {
        case .sgtin: "sgtin"
        case .sscc: "sscc"
        case .gcn: "gcn"
        case .gln: "gln"
        case .lot: "lot"
        }
    }

    /// The GTIN-14 of a ring or lot key; nil for other kinds.
    public var gtin: String? {
        switch self {
        case .sgtin(let g, _), .lot(let g, _): g
        default: nil
        }
    }

    /// The serial (AI 21) of a ring key; nil for other kinds.
    public var serial: String? {
        if case .sgtin(_, let s) = self { return s }
        return nil
    }

    /// The Global Coupon Number (AI 255) of a coupon key; nil for other kinds.
    public var gcnValue: String? {
        if case .gcn(let c) = self { return c }
        return nil
    }

    // MARK: validation

    /// The GS1 mod-10 check digit for `digits` (the payload without its check digit).
    public static func checkDigit(_ digits: some Collection<UInt8>) -> UInt8 {
        var sum = 0
        // Weights 3,1,3,1… from the rightmost payload digit.
        for (i, d) in digits.reversed().enumerated() { sum += Int(d) * (i % 2 == 0 ? 3 : 1) }
        return UInt8((10 - sum % 10) % 10)
    }

    /// Whether `text` is `length` ASCII digits whose last digit is the GS1 check digit of the rest.
    public static func hasValidCheckDigit(_ text: String, length: Int) -> Bool {
        guard let d = digits(text), d.count == length else { return false }
        return checkDigit(d.dropLast()) == d[d.count - 1]
    }

    /// `text` with its GS1 check digit appended; nil unless `text` is all digits.
    public static func appendingCheckDigit(_ text: String) -> String? {
        guard let d = digits(text), !d.isEmpty else { return nil }
        return text + String(checkDigit(d))
    }

    static func digits(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        for b in text.utf8 {
            guard b >= 0x30, b <= 0x39 else { return nil }
            out.append(b - 0x30)
        }
        return out
    }

    /// A GTIN-14 (a GTIN-8, -12 or -13 is padded with leading zeros); fails with `bad_code`.
    public static func checkedGTIN(_ text: String) throws(ChainError) -> String {
        guard text.utf8.count <= 14, [8, 12, 13, 14].contains(text.utf8.count), digits(text) != nil else {
            throw ChainError(.badCode, "a GTIN must be 8, 12, 13 or 14 digits")
        }
        let padded = String(repeating: "0", count: 14 - text.utf8.count) + text
        guard hasValidCheckDigit(padded, length: 14) else {
            throw ChainError(.badCode, "GTIN \(padded) has a wrong check digit")
        }
        return padded
    }

    /// An SSCC-18; fails with `bad_code`.
    public static func checkedSSCC(_ text: String) throws(ChainError) -> String {
        guard text.utf8.count == 18, digits(text) != nil else { throw ChainError(.badCode, "an SSCC must be 18 digits") }
        guard hasValidCheckDigit(text, length: 18) else { throw ChainError(.badCode, "SSCC \(text) has a wrong check digit") }
        return text
    }

    /// A GLN-13; fails with `bad_code`.
    public static func checkedGLN(_ text: String) throws(ChainError) -> String {
        guard text.utf8.count == 13, digits(text) != nil else { throw ChainError(.badCode, "a GLN must be 13 digits") }
        guard hasValidCheckDigit(text, length: 13) else { throw ChainError(.badCode, "GLN \(text) has a wrong check digit") }
        return text
    }

    /// A GCN: 13 digits (company prefix + coupon reference + check digit) then 0–12 serial digits; fails with `bad_code`.
    public static func checkedGCN(_ text: String) throws(ChainError) -> String {
        let n = text.utf8.count
        guard n >= 13, n <= 25, digits(text) != nil else {
            throw ChainError(.badCode, "a GCN must be 13 digits with check digit plus an optional serial of up to 12 digits")
        }
        guard hasValidCheckDigit(String(text.prefix(13)), length: 13) else {
            throw ChainError(.badCode, "GCN \(text) has a wrong check digit")
        }
        return text
    }

    /// Whether every character is in GS1 AI encodable character set 82.
    public static func isCharacterSet82(_ text: String) -> Bool {
        text.utf8.allSatisfy { b in
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
            case UInt8(ascii: "!"), UInt8(ascii: "\""), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: ";"),
                UInt8(ascii: "<"), UInt8(ascii: "="), UInt8(ascii: ">"), UInt8(ascii: "?"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
    }

    /// An AI 21 serial (1–20 characters of set 82); fails with `bad_code`.
    public static func checkedSerial(_ text: String) throws(ChainError) -> String {
        guard !text.isEmpty, text.utf8.count <= maxSerialLength, isCharacterSet82(text) else {
            throw ChainError(.badCode, "a serial must be 1–\(maxSerialLength) characters of GS1 character set 82")
        }
        return text
    }

    /// An AI 10 lot number (1–20 characters of set 82); fails with `bad_code`.
    public static func checkedLot(_ text: String) throws(ChainError) -> String {
        guard !text.isEmpty, text.utf8.count <= maxLotLength, isCharacterSet82(text) else {
            throw ChainError(.badCode, "a lot number must be 1–\(maxLotLength) characters of GS1 character set 82")
        }
        return text
    }
}
