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

    /// The key as a string (keys are valid UTF-8: they are made from strings).
    var string: String { String(decoding: bytes, as: UTF8.self) }
}
