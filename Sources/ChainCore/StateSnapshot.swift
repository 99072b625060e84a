import Foundation

/// The whole contract state at one height, as a node joining the chain loads it instead of
/// replaying every block (`docs/proofs.md`, state snapshots), with the ids of the transactions
/// committed in the last stretch of blocks before it.
///
/// The state is cut into chunks: each chunk is whole entries in strictly increasing byte order of
/// the key, continuing the previous chunk's order. The manifest names the block (height, header
/// hash), the execution outcome of that block that the next header certifies (result root and
/// running state hash), the number of entries and the hash of every chunk; its digest is what
/// validators sign. A chunk is checked against its hash as it arrives, so a peer serving garbage
/// is caught at the first bad chunk, and a transfer resumes at the next chunk it needs.
///
/// Committed ids. Every node leaves a transaction already committed out of a block and a
/// validator refuses to vote for a block repeating one, so a node that starts from the snapshot
/// must know the ids committed before it that a later block could still admit. A transaction
/// enters a block only when its own timestamp `t` is within the tolerance `tol`
/// (`timestampToleranceMs`) of the block's timestamp. A transaction committed in a block of
/// header time `b` before the snapshot has `b ≥ t − tol` (a header's time is never below the
/// consensus timestamp its transactions were checked against); a block after the snapshot, of
/// timestamp `b' ≥ T` (the snapshot block's time), admits it only if `t ≥ b' − tol ≥ T − tol`.
/// Both hold only if `b ≥ T − 2·tol`: the ids of the blocks whose time is at least
/// `committedSince = T − 2·tol` are all that matter, and the snapshot carries exactly those. (A
/// node started from the snapshot refuses transactions with `t < T − tol` in blocks it votes on,
/// which covers a later block whose timestamp is set below `T`; `ChainNode`.) Each id travels with
/// the time of the block that committed it, so a node started from a snapshot derives the same
/// list for its own later snapshots even where their window reaches below the block it started
/// from. The ids come in chunks of their own (`CommittedIDChunk`), numbered after the state's: one
/// transfer, one resume position, the same checks. Every validator derives the same sorted list
/// from the same chain and the same tolerance (a setting that must then be equal on all of them).
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
    /// Hash of each state chunk, in order (chunks `0..<chunkHashes.count`).
    public let chunkHashes: [Hash256]
    /// The earliest block time whose transactions' ids are carried: the snapshot block's time less
    /// twice the timestamp tolerance.
    public let committedSince: Int64
    /// Number of committed ids carried.
    public let committedCount: UInt64
    /// Hash of each committed-id chunk, in order (chunks numbered from `chunkHashes.count` on).
    public let committedChunkHashes: [Hash256]

    /// Domain separation tag of the encoding and of the signed message.
    public static let domain = "XIANGCHAIN-SNAPSHOT-V2"
    /// The tag of the first version, without committed ids: refused (`snapshot_outdated`).
    public static let domainV1 = "XIANGCHAIN-SNAPSHOT-V1"
    /// Most chunks a manifest may list, of both kinds together (with chunks of up to
    /// `SnapshotChunk.maxBytes`, far more than a node holds).
    public static let maxChunks = 1 << 20

    /// Creates a manifest.
    public init(
        chainId: String, height: UInt64, headerHash: Hash256, resultRoot: Hash256, stateHash: Hash256, entryCount: UInt64,
        chunkHashes: [Hash256], committedSince: Int64, committedCount: UInt64, committedChunkHashes: [Hash256]
    ) {
        self.chainId = chainId
        self.height = height
        self.headerHash = headerHash
        self.resultRoot = resultRoot
        self.stateHash = stateHash
        self.entryCount = entryCount
        self.chunkHashes = chunkHashes
        self.committedSince = committedSince
        self.committedCount = committedCount
        self.committedChunkHashes = committedChunkHashes
    }

    /// The start of the committed-id window of a snapshot whose block has time `blockTime`, on a
    /// node with `timestampToleranceMs`: `blockTime − 2 × timestampToleranceMs` (`Int64.min` when
    /// that does not fit). Writers put it in the manifest; a joining node checks against its own.
    public static func committedSince(blockTime: Int64, timestampToleranceMs: Int64) -> Int64 {
        let window = timestampToleranceMs.multipliedReportingOverflow(by: 2)
        let since = blockTime.subtractingReportingOverflow(window.partialValue)
        return window.overflow || since.overflow ? Int64.min : since.partialValue
    }

    /// Number of chunks of both kinds: the state's, then the committed ids'.
    public var chunkCount: Int { chunkHashes.count + committedChunkHashes.count }

    /// The hash of chunk `index` in the one numbering of both kinds.
    public func chunkHash(_ index: Int) -> Hash256? {
        guard index >= 0 else { return nil }
        if index < chunkHashes.count { return chunkHashes[index] }
        let j = index - chunkHashes.count
        return j < committedChunkHashes.count ? committedChunkHashes[j] : nil
    }

    /// The canonical bytes: tag, chain id, height, header hash, result root, state hash, entry
    /// count, state chunk count (u32) and hashes, `committedSince` (i64), committed id count,
    /// committed-id chunk count (u32) and hashes (u32-length-prefixed strings, big-endian numbers).
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
        w.i64(committedSince)
        w.u64(committedCount)
        w.u32(UInt32(committedChunkHashes.count))
        for h in committedChunkHashes { w.hash(h) }
        return w.bytes
    }

    /// Decodes `encoded`, refusing a first-version manifest (`snapshot_outdated`: it carries no
    /// committed ids, so a node started from it could be made to commit a transaction again),
    /// another tag, more than `maxChunks` chunks or trailing bytes.
    public init(decoding bytes: [UInt8]) throws(ChainError) {
        var r = BinaryReader(bytes, maxFieldLength: 1024)
        let tag = try r.string()
        guard tag != Self.domainV1 else {
            throw ChainError(
                .snapshotOutdated,
                "a first-version state snapshot manifest (without the ids of recently committed transactions); take a snapshot written by a node of this version"
            )
        }
        guard tag == Self.domain else { throw ChainError(.snapshotMismatch, "not a state snapshot manifest") }
        chainId = try r.string()
        height = try r.u64()
        headerHash = try r.hash()
        resultRoot = try r.hash()
        stateHash = try r.hash()
        entryCount = try r.u64()
        func hashes(_ r: inout BinaryReader, room: Int) throws(ChainError) -> [Hash256] {
            let count = Int(try r.u32())
            guard count <= room else { throw ChainError(.snapshotMismatch, "manifest lists more than \(Self.maxChunks) chunks") }
            var out: [Hash256] = []
            out.reserveCapacity(count)
            for _ in 0..<count { out.append(try r.hash()) }
            return out
        }
        chunkHashes = try hashes(&r, room: Self.maxChunks)
        committedSince = try r.i64()
        committedCount = try r.u64()
        committedChunkHashes = try hashes(&r, room: Self.maxChunks - chunkHashes.count)
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
        try collect { start, entry in _ = try scan(bytes, after: after.map { Array($0.utf8) }, start: start, entry: entry) }
    }

    /// The entries a chunk walker (`scan`, `SnapshotReceiver.accept`) hands out, as values.
    static func collect(
        _ walk: (
            _ start: (Int) -> Void, _ entry: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
        ) throws -> Void
    ) throws(ChainError) -> [StateEntry] {
        var out: [StateEntry] = []
        do {
            try walk({ out.reserveCapacity($0) }) { key, value in
                out.append(StateEntry(key: String(decoding: key, as: UTF8.self), value: Array(value)))
            }
        } catch let e as ChainError {
            throw e
        } catch {
            throw .decoding("\(error)")  // not reached: the closures above do not throw
        }
        return out
    }

    /// Walks a chunk's entries in place, without copying them: `start` gets the entry count the
    /// chunk claims (at most one per 8 bytes of it), then `entry` each key (valid UTF-8) and value
    /// as views of `bytes`, valid only during the call. The keys must be strictly increasing and
    /// above `after` (the last key of the previous chunk, as bytes), and the chunk must end with
    /// its last entry. A refusal (`snapshot_mismatch`, `decoding_failed`,
    /// `snapshot_chunk_too_large`, or what `start` or `entry` throw) may come after `entry` saw
    /// some entries. Returns the last key (`after` for a chunk of none).
    @discardableResult
    public static func scan(
        _ bytes: [UInt8], after: [UInt8]?, start: (Int) throws -> Void = { _ in },
        entry: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) throws -> [UInt8]? {
        guard bytes.count <= maxBytes else {
            throw ChainError(.snapshotChunkTooLarge, "a snapshot chunk of \(bytes.count) bytes; at most \(maxBytes)")
        }
        return try bytes.withUnsafeBytes { raw -> [UInt8]? in
            let end = raw.count
            var pos = 0
            func u32() throws(ChainError) -> Int {
                guard end - pos >= 4 else { throw .decoding("input ends early (need 4 bytes, have \(end - pos))") }
                let v = Int(raw[pos]) << 24 | Int(raw[pos + 1]) << 16 | Int(raw[pos + 2]) << 8 | Int(raw[pos + 3])
                pos += 4
                return v
            }
            func field() throws(ChainError) -> UnsafeRawBufferPointer {
                let n = try u32()
                guard n <= maxBytes else { throw .decoding("field of \(n) bytes exceeds the limit of \(maxBytes)") }
                guard n <= end - pos else { throw .decoding("input ends early (need \(n) bytes, have \(end - pos))") }
                defer { pos += n }
                return UnsafeRawBufferPointer(rebasing: raw[pos..<pos + n])
            }
            let count = try u32()
            guard count <= bytes.count / 8 else { throw ChainError(.snapshotMismatch, "chunk claims \(count) entries") }
            try start(count)
            var last: UnsafeRawBufferPointer?
            for _ in 0..<count {
                let key = try field()
                guard isUTF8(key) else { throw ChainError.decoding("string is not valid UTF-8") }
                let ordered =
                    if let last { precedes(last, key) } else if let after { after.withUnsafeBytes { precedes($0, key) } } else {
                        true
                    }
                guard ordered else {
                    throw ChainError(
                        .snapshotMismatch,
                        "snapshot keys are not in strictly increasing order at \"\(String(decoding: key, as: UTF8.self))\"")
                }
                try entry(key, try field())
                last = key
            }
            guard pos == end else { throw ChainError.decoding("\(end - pos) trailing bytes") }
            return last.map { Array($0) } ?? after
        }
    }

    /// Whether `a` comes strictly before `b` in byte order.
    static func precedes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let common = min(a.count, b.count)
        if common > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, common)
            if c != 0 { return c < 0 }
        }
        return a.count < b.count
    }

    /// Whether `bytes` are valid UTF-8 (the ASCII run they mostly are is checked a word at a time).
    static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        while i < n, bytes[i] < 0x80 { i += 1 }
        return i == n || String(validating: bytes[i...], as: UTF8.self) != nil
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

/// A transaction committed before a snapshot: its id and the time of the block that committed it.
public struct CommittedID: Sendable, Hashable {
    /// The transaction id.
    public let id: Hash256
    /// The header time of the block that committed it, unix milliseconds.
    public let blockTime: Int64

    /// Creates one.
    public init(id: Hash256, blockTime: Int64) {
        self.id = id
        self.blockTime = blockTime
    }
}

/// The layout of one committed-id chunk of a snapshot: a u32 count, then per transaction its id
/// (32 bytes) and its block's time (i64), ids strictly increasing across all chunks.
public enum CommittedIDChunk {
    /// Bytes of one entry.
    public static let entryBytes = 40

    /// Encodes entries (the caller keeps them in id order).
    public static func encode(_ entries: [CommittedID]) -> [UInt8] {
        var w = BinaryWriter()
        w.u32(UInt32(entries.count))
        for e in entries {
            w.hash(e.id)
            w.i64(e.blockTime)
        }
        return w.bytes
    }

    /// Decodes a chunk whose ids must be strictly increasing and above `after` (the last id of the
    /// previous chunk), and whose block times lie in `times`.
    public static func decode(_ bytes: [UInt8], after: Hash256?, times: ClosedRange<Int64>) throws(ChainError)
        -> [CommittedID]
    {
        guard bytes.count <= SnapshotChunk.maxBytes else {
            throw ChainError(
                .snapshotChunkTooLarge, "a snapshot chunk of \(bytes.count) bytes; at most \(SnapshotChunk.maxBytes)")
        }
        var r = BinaryReader(bytes, maxFieldLength: SnapshotChunk.maxBytes)
        let count = Int(try r.u32())
        guard count == (bytes.count - 4) / entryBytes, (bytes.count - 4) % entryBytes == 0 else {
            throw ChainError(.snapshotMismatch, "a committed-id chunk of \(bytes.count) bytes claims \(count) ids")
        }
        var out: [CommittedID] = []
        out.reserveCapacity(count)
        var last = after
        for _ in 0..<count {
            let id = try r.hash()
            let time = try r.i64()
            if let last, !(last < id) {
                throw ChainError(.snapshotMismatch, "snapshot committed ids are not in strictly increasing order at \(id.hex)")
            }
            guard times.contains(time) else {
                throw ChainError(.snapshotMismatch, "committed id \(id.hex) has a block time outside the snapshot's window")
            }
            out.append(CommittedID(id: id, blockTime: time))
            last = id
        }
        try r.finish()
        return out
    }
}

/// A snapshot chunk whose size and hash were checked against those a manifest lists for its
/// index: the hashing can run where the chunk arrives (several at a time), and the
/// `SnapshotReceiver` that takes it in order compares the hash it carries with its manifest's.
public struct CheckedSnapshotChunk: Sendable {
    /// The chunk's index in the manifest's one numbering of both kinds.
    public let index: Int
    /// The chunk.
    public let bytes: [UInt8]
    /// The chain hash of `bytes`, computed here.
    let hash: Hash256

    /// Checks `bytes` as chunk `index` of `manifest`: at most `SnapshotChunk.maxBytes`
    /// (`snapshot_chunk_too_large`), hashing (with the chain's `hasher`) to the listed hash
    /// (`snapshot_mismatch`, also for an index the manifest does not list).
    public init(index: Int, _ bytes: [UInt8], manifest: SnapshotManifest, hasher: ChainHasher) throws(ChainError) {
        guard bytes.count <= SnapshotChunk.maxBytes else {
            throw ChainError(
                .snapshotChunkTooLarge, "snapshot chunk \(index) has \(bytes.count) bytes; at most \(SnapshotChunk.maxBytes)")
        }
        let hash = hasher.hash(bytes)
        guard let listed = manifest.chunkHash(index), hash == listed else {
            throw ChainError(.snapshotMismatch, "snapshot chunk \(index) does not hash to the certified manifest's")
        }
        self.index = index
        self.bytes = bytes
        self.hash = hash
    }
}

/// Takes a certified snapshot's chunks in order and hands back their contents once each is
/// checked against the manifest: its index is the next one, its size is bounded, its hash is the
/// listed one, it decodes, and its keys (ids) continue the order. State chunks come first
/// (`accept`), then committed-id chunks (`acceptCommitted`, whose block times must lie between
/// the manifest's `committedSince` and `blockTime`, the snapshot block's time). `finish` checks
/// that every chunk came and both counts. Its position (`nextChunk`, `lastKey`, `lastID`,
/// `entries`, `committed`) is all a resumed transfer needs.
public struct SnapshotReceiver: Sendable {
    /// The certified manifest.
    public let manifest: SnapshotManifest
    let hasher: ChainHasher
    /// The time of the snapshot's block (its header's).
    public let blockTime: Int64
    /// Index of the chunk expected next.
    public private(set) var nextChunk = 0
    /// Last key received so far.
    public var lastKey: String? { lastKeyBytes.map { String(decoding: $0, as: UTF8.self) } }
    /// Last key received so far, as bytes.
    public private(set) var lastKeyBytes: [UInt8]?
    /// Entries received so far.
    public private(set) var entries: UInt64 = 0
    /// Last committed id received so far.
    public private(set) var lastID: Hash256?
    /// Committed ids received so far.
    public private(set) var committed: UInt64 = 0

    /// A receiver of `manifest`'s chunks, hashing with the chain's hasher; `blockTime` is the
    /// header time of the snapshot's block.
    public init(manifest: SnapshotManifest, hasher: ChainHasher, blockTime: Int64) {
        self.manifest = manifest
        self.hasher = hasher
        self.blockTime = blockTime
    }

    /// The checks every chunk passes: next in order, of kind `committedIDs`.
    private func checkOrder(_ index: Int, committedIDs: Bool) throws(ChainError) {
        let range =
            committedIDs ? manifest.chunkHashes.count..<manifest.chunkCount : 0..<manifest.chunkHashes.count
        guard index == nextChunk, range.contains(index) else {
            throw ChainError(
                .snapshotOutOfOrder,
                "snapshot chunk \(index) arrived as a \(committedIDs ? "committed-id" : "state") chunk; chunk \(nextChunk) of \(manifest.chunkCount) is the next one"
            )
        }
    }

    /// `checkOrder`, and the chunk was checked against this manifest's hash of it.
    private func check(_ chunk: CheckedSnapshotChunk, committedIDs: Bool) throws(ChainError) {
        try checkOrder(chunk.index, committedIDs: committedIDs)
        guard chunk.hash == manifest.chunkHash(chunk.index) else {
            throw ChainError(.snapshotMismatch, "snapshot chunk \(chunk.index) does not hash to the certified manifest's")
        }
    }

    /// Checks chunk `index` against the manifest (`CheckedSnapshotChunk`), with this receiver's hasher.
    public func checked(index: Int, _ bytes: [UInt8]) throws(ChainError) -> CheckedSnapshotChunk {
        try CheckedSnapshotChunk(index: index, bytes, manifest: manifest, hasher: hasher)
    }

    /// Checks state chunk `index` and returns its entries; nothing changes when it is refused.
    public mutating func accept(index: Int, _ bytes: [UInt8]) throws(ChainError) -> [StateEntry] {
        try checkOrder(index, committedIDs: false)
        let chunk = try checked(index: index, bytes)
        return try SnapshotChunk.collect { start, entry in try accept(chunk, start: start, entry: entry) }
    }

    /// Takes state chunk `chunk` (checked against the manifest's hash of it, possibly on another
    /// thread) and hands its entries to `entry` in place (`SnapshotChunk.scan`): without a copy,
    /// as views valid only during the call. On a refusal `entry` may have seen some of them, and
    /// the receiver does not move on: the caller discards what it got (one SQLite transaction).
    public mutating func accept(
        _ chunk: CheckedSnapshotChunk, start: (Int) throws -> Void = { _ in },
        entry: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try check(chunk, committedIDs: false)
        var count = 0
        let entries = self.entries
        let total = manifest.entryCount
        let last = try SnapshotChunk.scan(chunk.bytes, after: lastKeyBytes) { n in
            guard entries + UInt64(n) <= total else {
                throw ChainError(.snapshotMismatch, "the snapshot holds more entries than its manifest counts")
            }
            count = n
            try start(n)
        } entry: { key, value in
            try entry(key, value)
        }
        nextChunk += 1
        self.entries += UInt64(count)
        if count > 0 { lastKeyBytes = last }
    }

    /// Checks committed-id chunk `index` (numbered after the state chunks) and returns its ids;
    /// nothing changes when it is refused.
    public mutating func acceptCommitted(index: Int, _ bytes: [UInt8]) throws(ChainError) -> [CommittedID] {
        try checkOrder(index, committedIDs: true)
        return try acceptCommitted(try checked(index: index, bytes))
    }

    /// `acceptCommitted(index:_:)` of a chunk checked against the manifest's hash of it.
    public mutating func acceptCommitted(_ chunk: CheckedSnapshotChunk) throws(ChainError) -> [CommittedID] {
        try check(chunk, committedIDs: true)
        guard manifest.committedSince <= blockTime else {
            throw ChainError(.snapshotMismatch, "the manifest's committed-id window starts after its block")
        }
        let decoded = try CommittedIDChunk.decode(chunk.bytes, after: lastID, times: manifest.committedSince...blockTime)
        guard committed + UInt64(decoded.count) <= manifest.committedCount else {
            throw ChainError(.snapshotMismatch, "the snapshot carries more committed ids than its manifest counts")
        }
        nextChunk += 1
        committed += UInt64(decoded.count)
        if let last = decoded.last { lastID = last.id }
        return decoded
    }

    /// Fails unless every chunk arrived and the entries and committed ids are the manifest's counts.
    public func finish() throws(ChainError) {
        guard nextChunk == manifest.chunkCount, entries == manifest.entryCount, committed == manifest.committedCount else {
            throw ChainError(
                .snapshotMismatch,
                "the snapshot ended after \(nextChunk) of \(manifest.chunkCount) chunks, \(entries) of \(manifest.entryCount) entries and \(committed) of \(manifest.committedCount) committed ids"
            )
        }
    }
}
