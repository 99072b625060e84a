/// A state key as its UTF-8 bytes, for the dictionaries that buffer writes during execution.
///
/// Keys compare by bytes (Swift's `String` equality treats canonically equivalent spellings as
/// equal, while SQLite and the other nodes' stores compare bytes). `[UInt8]` itself would do, but
/// an array hashes element by element (one `Hasher.combine` per byte); this hashes the bytes in
/// one call, which made the dictionary lookups of block execution a visible share of a node's CPU.
struct StateKey: Hashable {
    let bytes: [UInt8]

    init(_ key: String) { bytes = Array(key.utf8) }

    init(bytes: [UInt8]) { self.bytes = bytes }

    static func == (a: StateKey, b: StateKey) -> Bool { a.bytes == b.bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Whether the key holds a NUL character. No key may: SQLite binds keys as C strings, so
    /// "a\u{0}b" would be stored and looked up as "a" (another key, perhaps another's), while the
    /// state hash covers the whole key. A write of one fails its transaction (`bad_state_key`);
    /// a read of one finds nothing (none can have been written).
    var holdsNUL: Bool { bytes.contains(0) }

    /// Whether `key` holds a NUL character (see `holdsNUL`).
    static func holdsNUL(_ key: String) -> Bool { key.utf8.contains(0) }

    /// The key as a string (keys are valid UTF-8: they are made from strings).
    var string: String { String(decoding: bytes, as: UTF8.self) }
}
