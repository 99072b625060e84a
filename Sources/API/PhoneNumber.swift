import ChainCore

/// A consumer's phone number in one spelling, so that every way of writing it hashes the same.
///
/// Accepted: ASCII or full-width digits, separated by spaces (also U+3000), dashes, dots or
/// brackets; a mainland mobile (11 digits, `1[3-9]…`) with or without `+86`, `86` or `0086` becomes
/// `+86` and its 11 digits; any other number needs a leading `+` and 7–15 digits (E.164) and
/// becomes `+` and its digits. Anything else is `bad_phone`.
public enum PhoneNumber {
    /// Longest input, Unicode code points.
    public static let maxInput = 40

    /// The normalised number, or `bad_phone`.
    public static func normalize(_ raw: String) throws(ChainError) -> String {
        guard raw.unicodeScalars.count <= maxInput else { throw refusal }
        var digits: [UInt8] = []
        var plus = false
        for u in raw.unicodeScalars {
            switch u.value {
            case 0x30...0x39: digits.append(UInt8(u.value))
            case 0xFF10...0xFF19: digits.append(UInt8(u.value - 0xFF10 + 0x30))
            case 0x2B, 0xFF0B:
                guard digits.isEmpty, !plus else { throw refusal }
                plus = true
            case 0x20, 0x09, 0x3000, 0x2D, 0xFF0D, 0x2010...0x2015, 0x2E, 0x28, 0x29, 0xFF08, 0xFF09: continue
            default: throw refusal
            }
        }
        let s = String(decoding: digits, as: UTF8.self)
        if plus {
            if s.hasPrefix("86"), isMainlandMobile(s.dropFirst(2)) { return "+\(s)" }
            guard !s.hasPrefix("86"), (7...15).contains(digits.count), digits.first != 0x30 else { throw refusal }
            return "+\(s)"
        }
        if isMainlandMobile(s[...]) { return "+86\(s)" }
        if s.hasPrefix("0086"), isMainlandMobile(s.dropFirst(4)) { return "+\(s.dropFirst(2))" }
        if s.hasPrefix("86"), isMainlandMobile(s.dropFirst(2)) { return "+\(s)" }
        throw refusal
    }

    /// 11 digits, `1` then `3`–`9`.
    static func isMainlandMobile(_ s: Substring) -> Bool {
        let u = Array(s.utf8)
        return u.count == 11 && u[0] == 0x31 && (0x33...0x39).contains(u[1]) && u.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// The number with its middle hidden, for answers and messages: `+86 139****5678`.
    public static func masked(_ normalised: String) -> String {
        let u = Array(normalised)
        if normalised.hasPrefix("+86"), u.count == 14 {
            return "+86 \(String(u[3..<6]))****\(String(u[10...]))"
        }
        guard u.count > 6 else { return normalised }
        return "\(String(u[0..<4]))****\(String(u[(u.count - 2)...]))"
    }

    static var refusal: ChainError {
        ChainError(
            .badPhone,
            "\"phone\" must be a mainland mobile number (11 digits, +86 optional) or + and 7–15 digits; spaces and dashes are fine"
        )
    }
}
