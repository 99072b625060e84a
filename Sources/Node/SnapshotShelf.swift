import ChainCore
import Foundation
import Storage
import Synchronization

/// The state snapshots this node took (`snapshotInterval`), on disk under `<home>/data/snapshots`:
/// one directory per height with the chunk files, `manifest`, and `signature-<validator>` files
/// (this validator's own, and any another gave it). The newest `keep` are kept. Writing happens
/// on the shelf's own serial queue, never on the cooperative pool nor on the commit path.
public final class SnapshotShelf: Sendable {
    /// The directory of the snapshots.
    public let directory: URL
    /// Snapshots kept.
    public let keep: Int
    let queue = DispatchQueue(label: "xiangchain.snapshots")
    let chunkBytes: Int
    /// The node's `timestampToleranceMs`: a snapshot carries the ids committed in the blocks of
    /// twice that before it (`SnapshotManifest`).
    public let timestampToleranceMs: Int64
    /// True while a snapshot is being written: a snapshot height reached meanwhile is skipped
    /// (each pending snapshot would hold a frozen SQLite read transaction, pinning the WAL, and
    /// a state that takes longer to write than an interval would queue them without bound).
    let writing = Atomic<Bool>(false)

    /// Claims the shelf for one snapshot; false when the previous one is still being written.
    func beginWriting() -> Bool { writing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }

    /// Releases the claim of `beginWriting`.
    func endWriting() { writing.store(false, ordering: .releasing) }

    /// A shelf in `directory`, keeping the newest `keep` snapshots, carrying the committed ids of
    /// `2 × timestampToleranceMs` of blocks.
    public init(
        directory: URL, keep: Int = 2, timestampToleranceMs: Int64, chunkBytes: Int = SnapshotChunk.targetBytes
    ) {
        self.directory = directory
        self.keep = max(1, keep)
        self.timestampToleranceMs = timestampToleranceMs
        self.chunkBytes = chunkBytes
    }

    /// Heights of complete snapshots (those with a manifest), oldest first.
    public func heights() -> [UInt64] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.compactMap { name in
            guard let h = UInt64(name),
                FileManager.default.fileExists(
                    atPath: directory.appendingPathComponent(name).appendingPathComponent("manifest").path)
            else { return nil }
            return h
        }.sorted()
    }

    /// The manifest of the snapshot at `height` (`snapshot_outdated` for one of the first version,
    /// written before this version of the node).
    public func manifest(height: UInt64) throws -> SnapshotManifest? {
        guard let data = try? Data(contentsOf: folder(height).appendingPathComponent("manifest")) else { return nil }
        return try SnapshotManifest(decoding: Array(data))
    }

    /// Chunk `index` of the snapshot at `height` (state chunks, then committed-id chunks).
    public func chunk(height: UInt64, index: Int) -> [UInt8]? {
        guard index >= 0, index < SnapshotManifest.maxChunks else { return nil }
        return (try? Data(contentsOf: folder(height).appendingPathComponent(BlockStore.snapshotChunkName(index)))).map {
            Array($0)
        }
    }

    /// The signatures held of the snapshot at `height`, by validator id.
    public func signatures(height: UInt64) -> [ValidatorSignature] {
        let dir = folder(height)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.sorted().compactMap { name in
            guard name.hasPrefix("signature-"), let data = try? Data(contentsOf: dir.appendingPathComponent(name)) else {
                return nil
            }
            return ValidatorSignature(validator: String(name.dropFirst("signature-".count)), signature: Array(data))
        }
    }

    /// Keeps a signature of the snapshot at `height` (the caller verified it).
    public func addSignature(_ signature: ValidatorSignature, height: UInt64) throws {
        try Self.keep(signature, in: folder(height))
    }

    static func keep(_ signature: ValidatorSignature, in folder: URL) throws {
        guard signature.validator.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }),
            !signature.validator.hasPrefix("."), signature.validator.utf8.count <= 128
        else { throw ChainError(.invalidParameter, "validator id \(signature.validator) cannot name a file") }
        try Data(signature.signature).write(
            to: folder.appendingPathComponent("signature-\(signature.validator)"), options: .atomic)
    }

    func folder(_ height: UInt64) -> URL { directory.appendingPathComponent(String(height)) }

    /// Writes the state `frozen` holds as the snapshot of its height, signs the manifest with
    /// `key` as `validator` (nil: an observer, unsigned), and drops snapshots beyond `keep`.
    public func write(_ frozen: FrozenState, chainId: String, key: SigningKey?, validator: String) throws -> SnapshotManifest {
        let partial = directory.appendingPathComponent("partial")
        try? FileManager.default.removeItem(at: partial)
        let manifest = try frozen.writeStateSnapshot(
            chainId: chainId, timestampToleranceMs: timestampToleranceMs, to: partial, chunkBytes: chunkBytes)
        // Signed before the folder is moved into place: a snapshot is never offered unsigned.
        if let key {
            try Self.keep(
                ValidatorSignature(
                    validator: validator, signature: try key.sign(manifest.signingMessage(hasher: key.suite.hasher))),
                in: partial)
        }
        let target = folder(manifest.height)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.moveItem(at: partial, to: target)
        for old in heights().dropLast(keep) { try? FileManager.default.removeItem(at: folder(old)) }
        return manifest
    }
}
