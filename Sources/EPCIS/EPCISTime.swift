/// An RFC 3339 / XSD `dateTime` with an explicit offset, as EPCIS requires for every time field.
public struct EPCISTime: Sendable, Hashable, Comparable {
    /// Unix time in milliseconds (rounded half up from the given fraction).
    public let millis: Int64

    /// Parses `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`; nil when the text does not match.
    public init?(_ text: String) {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int? {
            guard from + len <= b.count else { return nil }
            var v = 0
            for i in from..<(from + len) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count >= 20, let y = num(0, 4), b[4] == UInt8(ascii: "-"), let mo = num(5, 2), b[7] == UInt8(ascii: "-"),
            let d = num(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), let h = num(11, 2),
            b[13] == UInt8(ascii: ":"), let mi = num(14, 2), b[16] == UInt8(ascii: ":"), let s = num(17, 2)
        else { return nil }
        guard (1...12).contains(mo), d >= 1, d <= Self.daysInMonth(y, mo), h <= 23, mi <= 59, s <= 60 else { return nil }
        var i = 19
        var fracMillis = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            var digits: [Int] = []
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                digits.append(Int(b[i] - 48))
                i += 1
            }
            guard i > start, digits.count <= 12 else { return nil }
            let padded = digits + Array(repeating: 0, count: max(0, 4 - digits.count))
            fracMillis = padded[0] * 100 + padded[1] * 10 + padded[2] + (padded[3] >= 5 ? 1 : 0)
        }
        guard i < b.count else { return nil }
        var offsetMinutes = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else {
            guard i + 6 == b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), let oh = num(i + 1, 2),
                b[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2), oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        let days = Self.daysFromCivil(y, mo, d)
        let seconds = Int64(days) * 86400 + Int64(h * 3600 + mi * 60 + s) - Int64(offsetMinutes * 60)
        millis = seconds * 1000 + Int64(fracMillis)
    }

    /// A time from unix milliseconds.
    public init(millis: Int64) { self.millis = millis }

    /// UTC with exactly three fraction digits, e.g. `2020-03-04T10:00:30.000Z`.
    public var canonical: String {
        let totalSeconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let ms = Int(millis - totalSeconds * 1000)
        let days = totalSeconds >= 0 ? totalSeconds / 86400 : (totalSeconds - 86399) / 86400
        let secOfDay = Int(totalSeconds - days * 86400)
        let (y, m, d) = Self.civilFromDays(days)
        func p(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return
            "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(secOfDay / 3600, 2)):\(p(secOfDay / 60 % 60, 2)):\(p(secOfDay % 60, 2)).\(p(ms, 3))Z"
    }

    /// Orders by instant.
    public static func < (a: EPCISTime, b: EPCISTime) -> Bool { a.millis < b.millis }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func daysFromCivil(_ year: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ days: Int64) -> (Int, Int, Int) {
        let z = Int(days) + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
