// 三资监管 (rural collective funds, assets and resources): dates, checks and record helpers.

// MARK: - Dates (yyyymmdd integers, China Standard Time)

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    let y = m <= 2 ? y0 - 1 : y0
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (m + 9) % 12
    let doy = (153 * mp + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The civil date (yyyymmdd) of a day count since 1970-01-01.
func civilFromDays(_ z0: Int64) -> Int64 {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    return y * 10000 + m * 100 + d
}

func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

func daysInMonth(_ y: Int64, _ m: Int64) -> Int64 {
    switch m {
    case 2: return isLeap(y) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

/// True for a real date between 1949 and 2200 written as yyyymmdd.
func isValidDate(_ date: Int64) -> Bool {
    let y = date / 10000
    let m = date / 100 % 100
    let d = date % 100
    return y >= 1949 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m)
}

func dayNumber(_ date: Int64) -> Int64 { daysFromCivil(date / 10000, date / 100 % 100, date % 100) }

/// `date` plus `months` calendar months, the day clamped to the target month's length.
func addMonths(_ date: Int64, _ months: Int64) -> Int64 {
    let total = (date / 10000) * 12 + (date / 100 % 100 - 1) + months
    let y = total / 12
    let m = total % 12 + 1
    let d = min(date % 100, daysInMonth(y, m))
    return y * 10000 + m * 100 + d
}

func addDays(_ date: Int64, _ days: Int64) -> Int64 { civilFromDays(dayNumber(date) + days) }

/// Today's date in China Standard Time (UTC+8), from the block's timestamp.
func today() -> Int64 {
    let ms = XC.blockTime() + 8 * 3_600_000
    let days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
    return civilFromDays(days)
}

// MARK: - Checks

let maxAmount: Int64 = 10_000_000_000_000  // 1000 亿元 in fen: sums of these never overflow
let amountRange: ClosedRange<Int64> = 1...maxAmount

/// An identifier: 1-64 characters of A-Z a-z 0-9 _ - . (no '/', which separates key parts).
func checkID(_ s: String, _ field: String) throws(XCError) {
    var ok = !s.isEmpty
    var n = 0
    var text = s
    text.withUTF8 { buffer in
        n = buffer.count
        for b in buffer {
            let good =
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x5f || b == 0x2d
                || b == 0x2e
            if !good { ok = false }
        }
    }
    if !ok || n > 64 { throw XCError("bad_args", "\"\(field)\" must be 1-64 characters of A-Z a-z 0-9 _ - .") }
}

func id(_ args: Args, _ field: String) throws(XCError) -> String {
    let s = try args.string(field, maxLength: 64)
    try checkID(s, field)
    return s
}

/// A SHA-256 (or SM3) digest as 64 lowercase hex characters.
func checkHash(_ s: String, _ field: String) throws(XCError) {
    var ok = true
    var n = 0
    var text = s
    text.withUTF8 { buffer in
        n = buffer.count
        for b in buffer where !((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)) { ok = false }
    }
    if !ok || n != 64 { throw XCError("bad_args", "\"\(field)\" must be 64 lowercase hex characters") }
}

func date(_ args: Args, _ field: String) throws(XCError) -> Int64? {
    guard let d = try args.optionalInt(field, in: 19_490_101...22_001_231) else { return nil }
    guard isValidDate(d) else { throw XCError("bad_args", "\"\(field)\" must be a date written yyyymmdd") }
    return d
}

func oneOf(_ args: Args, _ field: String, _ allowed: [String], default value: String? = nil) throws(XCError) -> String {
    guard let s = try args.optionalString(field, maxLength: 32) else {
        if let value { return value }
        throw XCError("bad_args", "\"\(field)\" is required")
    }
    for a in allowed where a == s { return s }
    var list = ""
    for (i, a) in allowed.enumerated() { list += (i == 0 ? "" : ", ") + a }
    throw XCError("bad_args", "\"\(field)\" must be one of \(list)")
}

// MARK: - Records

func load(_ key: String) throws(XCError) -> JSON? { try XC.getJSON(key) }

func mustLoad(_ key: String, _ what: String) throws(XCError) -> JSON {
    guard let value = try XC.getJSON(key) else { throw XCError("not_found", "no \(what)") }
    return value
}

func exists(_ key: String) -> Bool { XC.get(key) != nil }

func int(_ record: JSON, _ field: String) -> Int64 { record[field]?.int ?? 0 }
func str(_ record: JSON, _ field: String) -> String { record[field]?.string ?? "" }

func checkedAdd(_ a: Int64, _ b: Int64) throws(XCError) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow { throw XCError("overflow", "an amount is out of range") }
    return sum
}

func checkedMul(_ a: Int64, _ b: Int64) throws(XCError) -> Int64 {
    let (product, overflow) = a.multipliedReportingOverflow(by: b)
    if overflow { throw XCError("overflow", "an amount is out of range") }
    return product
}

/// Zero-padded decimal, for keys that must sort in numeric order.
func padded(_ n: Int64, width: Int) -> String {
    var digits = ""
    var v = n
    var count = 0
    repeat {
        digits = String(Character(Unicode.Scalar(UInt8(48 + v % 10)))) + digits
        v /= 10
        count += 1
    } while v > 0
    while count < width {
        digits = "0" + digits
        count += 1
    }
    return digits
}

/// Parses the JSON values of scanned entries.
func values(_ entries: [XCEntry]) throws(XCError) -> [JSON] {
    var out: [JSON] = []
    out.reserveCapacity(entries.count)
    for e in entries {
        do {
            out.append(try JSON.parse(e.value))
        } catch {
            throw XCError("corrupt_state", "the value under \(e.key) is not valid JSON")
        }
    }
    return out
}

/// The last path component of a key.
func lastComponent(_ key: String) -> String {
    var result = ""
    for part in key.split(separator: "/") { result = String(part) }
    return result
}
