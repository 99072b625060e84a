/// Numbers in the CBV 2.0 pre-hash: "quantitative values SHALL NOT have trailing zeros".
///
/// A value is a number when it reads as a decimal floating-point literal (`26`, `26.0`, `+0.50`,
/// `.5`, `1e3`, `1_000`); it is then written as the binary64 value it denotes, the way the
/// reference implementation writes it: an integral value as its exact integer (`26.0` → `26`,
/// `1e3` → `1000`, `-0` → `0`), any other value as the shortest decimal that reads back to the
/// same binary64, in plain notation from 1e-4 up and scientific below (`0.5`, `1e-05`). Digits
/// of any script count as digits. Infinities and NaN are not numbers here.
public enum CanonicalNumber {
    /// The canonical rendering of `text`, or nil when it is not a number.
    public static func canonical(_ text: String) -> String? {
        guard let ascii = asciiLiteral(text), let d = Double(ascii), d.isFinite else { return nil }
        if d == d.rounded(.towardZero) { return integer(d) }
        return shortest(d)
    }

    /// `text` as an ASCII decimal literal without underscores, or nil when it is not one:
    /// sign? (digits ('.' digits?)? | '.' digits) (('e'|'E') sign? digits)?, where an underscore
    /// may stand between two digits.
    static func asciiLiteral(_ text: String) -> String? {
        var chars: [UInt8] = []
        chars.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                chars.append(UInt8(scalar.value))
            } else if scalar.properties.numericType == .decimal, let v = scalar.properties.numericValue, v >= 0, v <= 9 {
                chars.append(UInt8(48 + Int(v)))
            } else {
                return nil
            }
            if chars.count > 1024 { return nil }
        }
        var out: [UInt8] = []
        var i = 0
        func isDigit(_ j: Int) -> Bool { j < chars.count && chars[j] >= 48 && chars[j] <= 57 }
        /// Digits with single underscores between them; the count of digits read.
        func digits() -> Int? {
            var n = 0
            while i < chars.count {
                if isDigit(i) {
                    out.append(chars[i])
                    n += 1
                    i += 1
                } else if chars[i] == UInt8(ascii: "_"), n > 0, isDigit(i + 1) {
                    i += 1
                } else {
                    break
                }
            }
            return n
        }
        if i < chars.count, chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") {
            out.append(chars[i])
            i += 1
        }
        var mantissa = digits() ?? 0
        if i < chars.count, chars[i] == UInt8(ascii: ".") {
            out.append(chars[i])
            i += 1
            mantissa += digits() ?? 0
        }
        guard mantissa > 0 else { return nil }
        if i < chars.count, chars[i] == UInt8(ascii: "e") || chars[i] == UInt8(ascii: "E") {
            out.append(UInt8(ascii: "e"))
            i += 1
            if i < chars.count, chars[i] == UInt8(ascii: "+") || chars[i] == UInt8(ascii: "-") {
                out.append(chars[i])
                i += 1
            }
            guard (digits() ?? 0) > 0 else { return nil }
        }
        guard i == chars.count else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// The exact decimal integer an integral binary64 value denotes.
    static func integer(_ d: Double) -> String {
        if d == 0 { return "0" }
        if abs(d) < 9.0e18 { return String(Int64(d)) }
        // d = significand × 2^k with k > 0: double a decimal digit array k times.
        var digitsLE: [UInt8] = []  // little-endian decimal digits
        var m = d.significandBitPattern | (1 << 52)
        while m > 0 {
            digitsLE.append(UInt8(m % 10))
            m /= 10
        }
        for _ in 0..<(Int(d.exponent) - 52) {
            var carry: UInt8 = 0
            for j in digitsLE.indices {
                let v = digitsLE[j] * 2 + carry
                digitsLE[j] = v % 10
                carry = v / 10
            }
            if carry > 0 { digitsLE.append(carry) }
        }
        return (d < 0 ? "-" : "") + String(decoding: digitsLE.reversed().map { $0 + 48 }, as: UTF8.self)
    }

    /// The shortest round-tripping decimal of a non-integral `d`: plain notation when its first
    /// significant digit is at 10^-4 or above, else `d[.ddd]e-XX`.
    static func shortest(_ d: Double) -> String {
        // Swift's description is the shortest round-tripping digit string; re-lay it out.
        let text = "\(abs(d))"
        var digits: [UInt8] = []
        var pointAt: Int?
        var exponent = 0
        var i = text.utf8.startIndex
        let u = text.utf8
        while i < u.endIndex {
            let c = u[i]
            if c == UInt8(ascii: ".") {
                pointAt = digits.count
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                exponent = Int(String(text[text.index(after: i)...])) ?? 0
                break
            } else {
                digits.append(c)
            }
            i = u.index(after: i)
        }
        // value = 0.d1d2... × 10^decimalPoint
        var decimalPoint = (pointAt ?? digits.count) + exponent
        while let f = digits.first, f == UInt8(ascii: "0") {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while let l = digits.last, l == UInt8(ascii: "0") { digits.removeLast() }
        let sign = d < 0 ? "-" : ""
        let ds = String(decoding: digits, as: UTF8.self)
        if decimalPoint > -4 && decimalPoint <= 16 {
            if decimalPoint <= 0 { return sign + "0." + String(repeating: "0", count: -decimalPoint) + ds }
            let cut = ds.index(ds.startIndex, offsetBy: decimalPoint)
            return sign + ds[..<cut] + "." + ds[cut...]
        }
        let e = decimalPoint - 1
        let mantissa = digits.count > 1 ? String(ds.prefix(1)) + "." + ds.dropFirst() : ds
        let exp = String(abs(e))
        return sign + mantissa + "e" + (e < 0 ? "-" : "+") + (exp.count < 2 ? "0" + exp : exp)
    }
}
