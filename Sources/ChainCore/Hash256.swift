import Crypto
import Foundation

/// A 32-byte digest (SHA-256 under the default suites).
public struct Hash256: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The digest bytes; always 32 of them.
    public let bytes: [UInt8]

    /// The all-zero hash, used as the parent of the first block.
    public static let zero = Hash256(unchecked: [UInt8](repeating: 0, count: 32))

    /// Wraps exactly 32 bytes; fails on any other length.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hex characters.
    public init?(hex: String) {
        guard let raw = Hex.decode(hex), raw.count == 32 else { return nil }
        self.bytes = raw
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// SHA-256 of the given bytes.
    public static func sha256<D: DataProtocol>(_ data: D) -> Hash256 {
        Hash256(unchecked: Array(SHA256.hash(data: data)))
    }

    /// SHA-256 of a file's contents, read 1 MiB at a time (memory does not grow with the file:
    /// a node's database runs to gigabytes).
    public static func sha256(fileAt url: URL) throws -> Hash256 {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        return Hash256(unchecked: Array(hasher.finalize()))
    }

    /// SHA-256 over several byte strings fed in order.
    public static func sha256(parts: [[UInt8]]) -> Hash256 {
        var hasher = SHA256()
        for p in parts { hasher.update(data: p) }
        return Hash256(unchecked: Array(hasher.finalize()))
    }

    /// Lowercase hex.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    /// All 32 bytes in one call (the synthesised conformance fed them to the hasher one by one:
    /// about 1 % of a validator's time under load went to that). Every byte counts: some hashes
    /// are chosen by clients (evidence digests), so a prefix would let them collide on purpose.
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func == (lhs: Hash256, rhs: Hash256) -> Bool { lhs.bytes == rhs.bytes }

    public static func < (lhs: Hash256, rhs: Hash256) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
