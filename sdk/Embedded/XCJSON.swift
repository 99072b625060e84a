// XiangChain contract SDK for Embedded Swift: a small JSON value, reader and writer.
//
// No Foundation and no floating point: numbers are 64-bit integers, and a number with a fraction
// or an exponent is refused. Objects keep their members in order; the reader refuses duplicate
// keys, as the chain's own parser does.

/// A JSON value whose numbers are integers.
public enum JSON: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    case array([JSON])
    /// Members in order (the host stores JSON canonically, with keys sorted, whatever the order here).
    case object([JSONMember])

    /// The member `key` of an object; nil when absent or when this is not an object.
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The string, if this is one.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is one.
    public var int: Int64? {
        if case .int(let n) = self { return n }
        return nil
    }

    /// The boolean, if this is one.
    public var bool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var array: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, if this is an object.
    public var members: [JSONMember]? {
        if case .object(let m) = self { return m }
        return nil
    }

    /// True for `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// This object with `key` set to `value` (replacing an existing member, or appended).
    public func setting(_ key: String, _ value: JSON) -> JSON {
        guard case .object(var members) = self else { return self }
        for i in 0..<members.count where members[i].key == key {
            members[i].value = value
            return .object(members)
        }
        members.append(JSONMember(key, value))
        return .object(members)
    }

    /// Compact JSON text as UTF-8 bytes.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }

    /// Calls `body` with the serialized bytes, without copying them into an array.
    public func withSerialized<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        var writer = JSONWriter()
        writer.write(self)
        return body(UnsafeBufferPointer(start: writer.storage, count: writer.count))
    }

    /// Parses one JSON value spanning all of `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(XCError) -> JSON {
        var reader = JSONReader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.pos == bytes.count else { throw reader.fail("unexpected content after the JSON value") }
        return value
    }
}

/// One member of a JSON object.
public struct JSONMember: Equatable {
    /// The key.
    public var key: String
    /// The value.
    public var value: JSON

    /// Creates a member.
    public init(_ key: String, _ value: JSON) {
        self.key = key
        self.value = value
    }
}

/// Builds an object from key-value pairs: `obj(("a", .int(1)), ("b", .string("x")))`.
public func obj(_ members: (String, JSON)...) -> JSON {
    var list: [JSONMember] = []
    list.reserveCapacity(members.count)
    for (key, value) in members { list.append(JSONMember(key, value)) }
    return .object(list)
}

/// Writes compact JSON into a growing buffer.
///
/// Appending to an `[UInt8]` one byte at a time costs a hundred or more WebAssembly operators per
/// byte in Embedded Swift (each append is an out-of-line call with uniqueness and capacity
/// checks); this writer stores through a pointer into space it reserves ahead.
public struct JSONWriter: ~Copyable {
    var storage: UnsafeMutablePointer<UInt8>
    var capacity: Int
    /// Bytes written so far.
    public internal(set) var count: Int = 0

    /// Creates an empty writer.
    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        storage = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    /// The text written so far.
    public var bytes: [UInt8] { _xcArray(UnsafeBufferPointer(start: storage, count: count)) }

    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    @inline(never)
    mutating func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        UnsafeMutableRawPointer(newStorage).copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    @inline(__always)
    mutating func put(_ b: UInt8) {
        storage[count] = b
        count += 1
    }

    /// Appends one byte.
    public mutating func appendByte(_ b: UInt8) {
        reserve(1)
        put(b)
    }

    /// Appends raw bytes (which must already be valid JSON where JSON is expected).
    public mutating func appendBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let base = bytes.baseAddress { UnsafeMutableRawPointer(storage + count).copyMemory(from: base, byteCount: bytes.count) }
        count += bytes.count
    }

    /// Appends `value`.
    public mutating func write(_ value: JSON) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let n): writeInt(n)
        case .string(let s): writeString(s)
        case .array(let items):
            appendByte(0x5b)
            var first = true
            for item in items {
                if !first { appendByte(0x2c) }
                first = false
                write(item)
            }
            appendByte(0x5d)
        case .object(let members):
            appendByte(0x7b)
            var first = true
            for member in members {
                if !first { appendByte(0x2c) }
                first = false
                writeString(member.key)
                appendByte(0x3a)
                write(member.value)
            }
            appendByte(0x7d)
        }
    }

    mutating func append(_ s: StaticString) {
        appendBytes(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends a decimal integer.
    public mutating func writeInt(_ n: Int64) {
        var magnitude = n.magnitude
        var digits = 1
        var scan = magnitude
        while scan >= 10 {
            scan /= 10
            digits += 1
        }
        reserve(digits + 1)
        if n < 0 { put(0x2d) }
        var i = count + digits
        count = i
        repeat {
            i -= 1
            storage[i] = 0x30 + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
    }

    /// Appends a JSON string with the escapes JSON requires.
    public mutating func writeString(_ s: String) {
        // Iterating `s.utf8` element by element costs about a thousand operators per byte in
        // Embedded Swift; the contiguous buffer costs a few.
        var text = s
        text.withUTF8 { buffer in
            let n = buffer.count
            reserve(n + 2)
            put(0x22)
            guard let p = buffer.baseAddress else {
                put(0x22)
                return
            }
            var clean = true
            var i = 0
            while i < n {
                let b = p[i]
                if b < 0x20 || b == 0x22 || b == 0x5c {
                    clean = false
                    break
                }
                i &+= 1
            }
            if clean {
                UnsafeMutableRawPointer(storage + count).copyMemory(from: p, byteCount: n)
                count &+= n
            } else {
                for j in 0..<n { writeEscaped(p[j]) }
            }
            reserve(1)
            put(0x22)
        }
    }

    mutating func writeEscaped(_ b: UInt8) {
        reserve(6)
        if b >= 0x20 && b != 0x22 && b != 0x5c {
            put(b)
            return
        }
        put(0x5c)
        switch b {
        case 0x22: put(0x22)
        case 0x5c: put(0x5c)
        case 0x0a: put(0x6e)
        case 0x0d: put(0x72)
        case 0x09: put(0x74)
        default:
            put(0x75)
            put(0x30)
            put(0x30)
            put(Self.hexDigit(b >> 4))
            put(Self.hexDigit(b & 0x0f))
        }
    }

    static func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? 0x30 + n : 0x57 + n }
}

/// A strict JSON reader over bytes.
struct JSONReader {
    let bytes: [UInt8]
    var pos = 0
    static let maxDepth = 32

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ message: String) -> XCError {
        XCError("malformed_json", message)
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            let b = bytes[pos]
            if b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d { pos += 1 } else { return }
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSON) throws(XCError) -> JSON {
        let count = text.utf8CodeUnitCount
        guard pos + count <= bytes.count else { throw fail("invalid literal") }
        let start = text.utf8Start
        for i in 0..<count where bytes[pos + i] != start[i] { throw fail("invalid literal") }
        pos += count
        return value
    }

    mutating func value(depth: Int) throws(XCError) -> JSON {
        guard depth <= Self.maxDepth else { throw fail("nesting too deep") }
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case 0x7b: return try object(depth: depth)
        case 0x5b: return try array(depth: depth)
        case 0x22: return .string(try string())
        case 0x74: return try literal("true", .bool(true))
        case 0x66: return try literal("false", .bool(false))
        case 0x6e: return try literal("null", .null)
        case 0x2d, 0x30...0x39: return .int(try number())
        default: throw fail("unexpected character")
        }
    }

    mutating func object(depth: Int) throws(XCError) -> JSON {
        pos += 1
        var members: [JSONMember] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == 0x7d {
            pos += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == 0x22 else { throw fail("expected a string key") }
            let key = try string()
            for member in members where member.key == key { throw fail("duplicate key") }
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == 0x3a else { throw fail("expected ':'") }
            pos += 1
            skipWhitespace()
            members.append(JSONMember(key, try value(depth: depth + 1)))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unterminated object") }
            if bytes[pos] == 0x2c {
                pos += 1
                continue
            }
            if bytes[pos] == 0x7d {
                pos += 1
                return .object(members)
            }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(XCError) -> JSON {
        pos += 1
        var items: [JSON] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == 0x5d {
            pos += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unterminated array") }
            if bytes[pos] == 0x2c {
                pos += 1
                continue
            }
            if bytes[pos] == 0x5d {
                pos += 1
                return .array(items)
            }
            throw fail("expected ',' or ']'")
        }
    }

    mutating func hex4() throws(XCError) -> UInt32 {
        guard pos + 4 <= bytes.count else { throw fail("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            default: throw fail("invalid \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func appendScalar(_ v: UInt32, to out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(v))
        } else if v < 0x800 {
            out.append(UInt8(0xc0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3f))
        } else if v < 0x10000 {
            out.append(UInt8(0xe0 | v >> 12))
            out.append(UInt8(0x80 | v >> 6 & 0x3f))
            out.append(UInt8(0x80 | v & 0x3f))
        } else {
            out.append(UInt8(0xf0 | v >> 18))
            out.append(UInt8(0x80 | v >> 12 & 0x3f))
            out.append(UInt8(0x80 | v >> 6 & 0x3f))
            out.append(UInt8(0x80 | v & 0x3f))
        }
    }

    mutating func string() throws(XCError) -> String {
        pos += 1
        // Fast path: a run without escapes becomes the string in one step.
        let start = pos
        let plainEnd: Int = bytes.withUnsafeBufferPointer { buffer in
            var i = start
            while i < buffer.count {
                let b = buffer[i]
                if b == 0x22 || b == 0x5c || b < 0x20 { break }
                i += 1
            }
            return i
        }
        if plainEnd < bytes.count, bytes[plainEnd] == 0x22 {
            pos = plainEnd + 1
            return bytes.withUnsafeBufferPointer { buffer in
                String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<plainEnd]), as: UTF8.self)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(plainEnd - start + 16)
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let b = bytes[pos]
            if b == 0x22 {
                pos += 1
                break
            }
            if b < 0x20 { throw fail("control character in string") }
            if b != 0x5c {
                out.append(b)
                pos += 1
                continue
            }
            pos += 1
            guard pos < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case 0x22: out.append(0x22)
            case 0x5c: out.append(0x5c)
            case 0x2f: out.append(0x2f)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0c)
            case 0x6e: out.append(0x0a)
            case 0x72: out.append(0x0d)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4()
                if scalar >= 0xd800 && scalar <= 0xdbff {
                    guard pos + 2 <= bytes.count, bytes[pos] == 0x5c, bytes[pos + 1] == 0x75 else {
                        throw fail("lone high surrogate")
                    }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xdc00 && low <= 0xdfff else { throw fail("invalid low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                } else if scalar >= 0xdc00 && scalar <= 0xdfff {
                    throw fail("lone low surrogate")
                }
                appendScalar(scalar, to: &out)
            default: throw fail("invalid escape")
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func number() throws(XCError) -> Int64 {
        var negative = false
        if bytes[pos] == 0x2d {
            negative = true
            pos += 1
        }
        guard pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 else { throw fail("invalid number") }
        if bytes[pos] == 0x30, pos + 1 < bytes.count, bytes[pos + 1] >= 0x30, bytes[pos + 1] <= 0x39 {
            throw fail("leading zero in number")
        }
        // Accumulate as a negative number so that Int64.min fits.
        var value: Int64 = 0
        while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 {
            let digit = Int64(bytes[pos] - 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.subtractingReportingOverflow(digit)
            if o1 || o2 { throw fail("integer out of range") }
            value = s
            pos += 1
        }
        if pos < bytes.count, bytes[pos] == 0x2e || bytes[pos] == 0x65 || bytes[pos] == 0x45 {
            throw fail("numbers must be integers")
        }
        if negative { return value }
        if value == Int64.min { throw fail("integer out of range") }
        return -value
    }
}
