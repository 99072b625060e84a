/// The whole contract state at one height, as a node joining the chain loads it instead of
/// replaying every block (`docs/proofs.md`, state snapshots).
///
/// The state is cut into chunks: each chunk is whole entries in strictly increasing byte order of
/// the key, continuing the previous chunk's order. The manifest names the block (height, header
/// hash), the execution outcome of that block that the next header certifies (result root and
/// running state hash), the number of entries and the hash of every chunk; its digest is what
/// validators sign. A chunk is checked against its hash as it arrives, so a peer serving garbage
/// is caught at the first bad chunk, and a transfer resumes at the next chunk it needs.
public struct SnapshotManifest: Sendable, Hashable {
    /// The chain.
    public let chainId: String
    /// Height of the block after which the state is taken.
    public let height: UInt64
    /// Hash of that block's header.
    public let headerHash: Hash256
    /// Result root of that block's transactions (the next header carries it).
    public let resultRoot: Hash256
    /// The running state hash after that block (`StateHash.next`; the next header carries it).
    public let stateHash: Hash256
    /// Number of state entries.
    public let entryCount: UInt64
    /// Hash of each chunk, in order.
    public let chunkHashes: [Hash256]

    /// Domain separation tag of the encoding and of the signed message.
    public static let domain = "XIANGCHAIN-SNAPSHOT-V1"
    /// Most chunks a manifest may list (with chunks of up to `SnapshotChunk.maxBytes`, far more
    /// state than a node holds).
    public static let maxChunks = 1 << 20

    /// Creates a manifest.
    public init(
        chainId: String, height: UInt64, headerHash: Hash256, resultRoot: Hash256, stateHash: Hash256, entryCount: UInt64,
        chunkHashes: [Hash256]
    ) {
        self.chainId = chainId
        self.height = height
        self.headerHash = headerHash
        self.resultRoot = resultRoot
        self.stateHash = stateHash
        self.entryCount = entryCount
        self.chunkHashes = chunkHashes
    }

    /// The canonical bytes: tag, chain id, height, header hash, result root, state hash, entry
    /// count, chunk count (u32) and chunk hashes (u32-length-prefixed strings, big-endian numbers).
    public var encoded: [UInt8] {
        var w = BinaryWriter()
        w.string(Self.domain)
        w.string(chainId)
        w.u64(height)
        w.hash(headerHash)
        w.hash(resultRoot)
        w.hash(stateHash)
        w.u64(entryCount)
        w.u32(UInt32(chunkHashes.count))
        for h in chunkHashes { w.hash(h) }
        return w.bytes
    }

    /// Decodes `encoded`, refusing another tag, more than `maxChunks` chunks or trailing bytes.
    public init(decoding bytes: [UInt8]) throws(ChainError) {
        var r = BinaryReader(bytes, maxFieldLength: 1024)
        guard try r.string() == Self.domain else { throw ChainError(.snapshotMismatch, "not a state snapshot manifest") }
        chainId = try r.string()
        height = try r.u64()
        headerHash = try r.hash()
        resultRoot = try r.hash()
        stateHash = try r.hash()
        entryCount = try r.u64()
        let count = Int(try r.u32())
        guard count <= Self.maxChunks else { throw ChainError(.snapshotMismatch, "manifest lists \(count) chunks") }
        var hashes: [Hash256] = []
        hashes.reserveCapacity(count)
        for _ in 0..<count { hashes.append(try r.hash()) }
        chunkHashes = hashes
        try r.finish()
    }

    /// The digest validators sign (the chain's hash of `encoded`).
    public func digest(hasher: ChainHasher) -> Hash256 { hasher.hash(encoded) }

    /// The bytes a validator signs: the tag, then the digest.
    public func signingMessage(hasher: ChainHasher) -> [UInt8] { Array(Self.domain.utf8) + digest(hasher: hasher).bytes }

    /// The signatures of `signatures` that verify under `check` (the validator set in force at
    /// `height`), at least its quorum of distinct validators; throws `no_quorum` otherwise.
    public func verifyCertificate(_ signatures: [ValidatorSignature], check: FinalityCheck) throws(ChainError)
        -> [ValidatorSignature]
    {
        let message = signingMessage(hasher: check.suite.hasher)
        var seen = Set<String>()
        var valid: [ValidatorSignature] = []
        for s in signatures where !seen.contains(s.validator) {
            if let key = check.keys[s.validator], check.suite.verify(signature: s.signature, message: message, publicKey: key) {
                seen.insert(s.validator)
                valid.append(s)
            }
        }
        guard valid.count >= check.quorum else {
            throw ChainError(
                .noQuorum,
                "the snapshot at height \(height) carries \(valid.count) valid signatures of the validators in force there; \(check.quorum) needed"
            )
        }
        return valid
    }
}

/// The layout of one snapshot chunk: a u32 entry count, then per entry the key (u32 length, UTF-8)
/// and the value (u32 length, bytes).
public enum SnapshotChunk {
    /// Size at which a builder closes a chunk (a chunk may pass it by its last entry).
    public static let targetBytes = 1 << 20
    /// Largest chunk a receiver takes.
    public static let maxBytes = 8 << 20

    /// Encodes entries (the caller keeps them in key order).
    public static func encode(_ entries: [StateEntry]) -> [UInt8] {
        var w = BinaryWriter()
        w.u32(UInt32(entries.count))
        for e in entries {
            w.string(e.key)
            w.lengthPrefixed(e.value)
        }
        return w.bytes
    }

    /// Decodes a chunk whose keys must be strictly increasing and above `after` (the last key of
    /// the previous chunk).
    public static func decode(_ bytes: [UInt8], after: String?) throws(ChainError) -> [StateEntry] {
        guard bytes.count <= maxBytes else {
            throw ChainError(.snapshotChunkTooLarge, "a snapshot chunk of \(bytes.count) bytes; at most \(maxBytes)")
        }
        var r = BinaryReader(bytes, maxFieldLength: maxBytes)
        let count = Int(try r.u32())
        guard count <= bytes.count / 8 else { throw ChainError(.snapshotMismatch, "chunk claims \(count) entries") }
        var out: [StateEntry] = []
        out.reserveCapacity(count)
        var last = after.map { Array($0.utf8) }
        for _ in 0..<count {
            let key = try r.string()
            let bytes = Array(key.utf8)
            if let last, !last.lexicographicallyPrecedes(bytes) {
                throw ChainError(.snapshotMismatch, "snapshot keys are not in strictly increasing order at \"\(key)\"")
            }
            out.append(StateEntry(key: key, value: try r.lengthPrefixed()))
            last = bytes
        }
        try r.finish()
        return out
    }
}

/// Cuts entries in key order into chunks of about `SnapshotChunk.targetBytes`.
public struct SnapshotChunker {
    var pending: [StateEntry] = []
    var pendingBytes = 4
    let target: Int

    /// A chunker closing chunks at `target` bytes.
    public init(target: Int = SnapshotChunk.targetBytes) { self.target = target }

    /// Adds the next entry; returns a finished chunk when this one filled it.
    public mutating func add(_ entry: StateEntry) -> [UInt8]? {
        pending.append(entry)
        pendingBytes += 8 + entry.key.utf8.count + entry.value.count
        guard pendingBytes >= target else { return nil }
        return flush()
    }

    /// The last chunk, if any entry is left.
    public mutating func finish() -> [UInt8]? { pending.isEmpty ? nil : flush() }

    private mutating func flush() -> [UInt8] {
        let chunk = SnapshotChunk.encode(pending)
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 4
        return chunk
    }
}

/// Takes a certified snapshot's chunks in order and hands back their entries once each is checked
/// against the manifest: its index is the next one, its size is bounded, its hash is the listed
/// one, it decodes, and its keys continue the order. `finish` checks that every chunk came and the
/// entry count. Its position (`nextChunk`, `lastKey`, `entries`) is all a resumed transfer needs.
public struct SnapshotReceiver: Sendable {
    /// The certified manifest.
    public let manifest: SnapshotManifest
    let hasher: ChainHasher
    /// Index of the chunk expected next.
    public private(set) var nextChunk = 0
    /// Last key received so far.
    public private(set) var lastKey: String?
    /// Entries received so far.
    public private(set) var entries: UInt64 = 0

    /// A receiver of `manifest`'s chunks, hashing with the chain's hasher.
    public init(manifest: SnapshotManifest, hasher: ChainHasher) {
        self.manifest = manifest
        self.hasher = hasher
    }

    /// Checks chunk `index` and returns its entries; nothing changes when it is refused.
    public mutating func accept(index: Int, _ bytes: [UInt8]) throws(ChainError) -> [StateEntry] {
        guard index == nextChunk, index < manifest.chunkHashes.count else {
            throw ChainError(
                .snapshotOutOfOrder,
                "snapshot chunk \(index) arrived; chunk \(nextChunk) of \(manifest.chunkHashes.count) is the next one")
        }
        guard bytes.count <= SnapshotChunk.maxBytes else {
            throw ChainError(
                .snapshotChunkTooLarge, "snapshot chunk \(index) has \(bytes.count) bytes; at most \(SnapshotChunk.maxBytes)")
        }
        guard hasher.hash(bytes) == manifest.chunkHashes[index] else {
            throw ChainError(.snapshotMismatch, "snapshot chunk \(index) does not hash to the certified manifest's")
        }
        let decoded = try SnapshotChunk.decode(bytes, after: lastKey)
        guard entries + UInt64(decoded.count) <= manifest.entryCount else {
            throw ChainError(.snapshotMismatch, "the snapshot holds more entries than its manifest counts")
        }
        nextChunk += 1
        entries += UInt64(decoded.count)
        if let last = decoded.last { lastKey = last.key }
        return decoded
    }

    /// Fails unless every chunk arrived and the entries are the manifest's count.
    public func finish() throws(ChainError) {
        guard nextChunk == manifest.chunkHashes.count, entries == manifest.entryCount else {
            throw ChainError(
                .snapshotMismatch,
                "the snapshot ended after \(nextChunk) of \(manifest.chunkHashes.count) chunks and \(entries) of \(manifest.entryCount) entries"
            )
        }
    }
}
