/// Writes the project's binary encoding: big-endian integers, u32-length-prefixed byte strings
/// and UTF-8 strings, fixed 32-byte hashes. `docs/proofs.md` gives the layouts built from it.
public struct BinaryWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Forgets the bytes written, keeping the storage (for a writer emptied piece by piece).
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { appendBigEndian(v) }
    public mutating func u32(_ v: UInt32) { appendBigEndian(v) }
    public mutating func u64(_ v: UInt64) { appendBigEndian(v) }
    public mutating func i64(_ v: Int64) { appendBigEndian(UInt64(bitPattern: v)) }
    public mutating func hash(_ h: Hash256) { bytes.append(contentsOf: h.bytes) }

    /// A u32 length, then the bytes.
    public mutating func lengthPrefixed(_ data: [UInt8]) {
        u32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// A u32 length, then the UTF-8 bytes.
    public mutating func string(_ s: String) { lengthPrefixed(Array(s.utf8)) }

    private mutating func appendBigEndian<T: FixedWidthInteger>(_ v: T) {
        var be = v.bigEndian
        withUnsafeBytes(of: &be) { bytes.append(contentsOf: $0) }
    }
}

/// Reads what `BinaryWriter` wrote, refusing truncated input and oversized lengths.
public struct BinaryReader {
    private let bytes: [UInt8]
    private var pos = 0
    /// Longest length-prefixed field accepted.
    public let maxFieldLength: Int

    /// Starts reading at the first byte.
    public init(_ bytes: [UInt8], maxFieldLength: Int = 16 << 20) {
        self.bytes = bytes
        self.maxFieldLength = maxFieldLength
    }

    /// Bytes not yet read.
    public var remaining: Int { bytes.count - pos }

    private mutating func take(_ n: Int) throws(ChainError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw .decoding("input ends early (need \(n) bytes, have \(remaining))") }
        defer { pos += n }
        return bytes[pos..<pos + n]
    }

    private mutating func bigEndian<T: FixedWidthInteger>(_: T.Type) throws(ChainError) -> T {
        let raw = try take(MemoryLayout<T>.size)
        return raw.reduce(T(0)) { $0 << 8 | T($1) }
    }

    public mutating func u8() throws(ChainError) -> UInt8 { try take(1).first! }
    public mutating func u16() throws(ChainError) -> UInt16 { try bigEndian(UInt16.self) }
    public mutating func u32() throws(ChainError) -> UInt32 { try bigEndian(UInt32.self) }
    public mutating func u64() throws(ChainError) -> UInt64 { try bigEndian(UInt64.self) }
    public mutating func i64() throws(ChainError) -> Int64 { Int64(bitPattern: try bigEndian(UInt64.self)) }
    public mutating func hash() throws(ChainError) -> Hash256 { Hash256(unchecked: Array(try take(32))) }

    /// A u32 length, then that many bytes.
    public mutating func lengthPrefixed() throws(ChainError) -> [UInt8] {
        let n = Int(try u32())
        guard n <= maxFieldLength else { throw .decoding("field of \(n) bytes exceeds the limit of \(maxFieldLength)") }
        return Array(try take(n))
    }

    /// A u32 length, then that many bytes of valid UTF-8.
    public mutating func string() throws(ChainError) -> String {
        let raw = try lengthPrefixed()
        guard let s = String(validating: raw, as: UTF8.self) else { throw .decoding("string is not valid UTF-8") }
        return s
    }

    /// Fails unless every byte has been read.
    public func finish() throws(ChainError) {
        guard remaining == 0 else { throw .decoding("\(remaining) trailing bytes") }
    }
}
