import ChainCore
import Foundation
import GRDB

/// Writing the state as a snapshot, and loading a certified snapshot into an empty store
/// (`docs/proofs.md`, state snapshots).
extension BlockStore {
    /// The file name of chunk `index` in a snapshot directory.
    public static func snapshotChunkName(_ index: Int) -> String {
        let digits = String(index)
        return "chunk-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Writes the state after the stored tip into `directory` (created if needed): the chunk files
    /// (`snapshotChunkName`) and `manifest` (`SnapshotManifest.encoded`). Tip and state are read in
    /// one SQLite read transaction, so blocks committed meanwhile are not in it. Blocking: call it
    /// off the cooperative pool.
    public func writeStateSnapshot(
        chainId: String, to directory: URL, chunkBytes: Int = SnapshotChunk.targetBytes
    ) throws -> SnapshotManifest {
        try writeStateSnapshot(chainId: chainId, to: directory, chunkBytes: chunkBytes, reader: pool)
    }

    func writeStateSnapshot(
        chainId: String, to directory: URL, chunkBytes: Int, reader: some DatabaseReader
    ) throws -> SnapshotManifest {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try reader.read { db in
            guard
                let tip = try Row.fetchOne(
                    db, sql: "SELECT height, hash, result_root, state_hash FROM blocks ORDER BY height DESC LIMIT 1")
            else { throw ChainError(.notFound, "no block yet: nothing to snapshot") }
            var chunker = SnapshotChunker(target: chunkBytes)
            var hashes: [Hash256] = []
            var count: UInt64 = 0
            func emit(_ chunk: [UInt8]) throws {
                try Data(chunk).write(to: directory.appendingPathComponent(Self.snapshotChunkName(hashes.count)))
                hashes.append(self.hasher.hash(chunk))
            }
            let cursor = try Row.fetchCursor(db, sql: "SELECT key, value FROM state ORDER BY key")
            while let row = try cursor.next() {
                count += 1
                if let chunk = chunker.add(StateEntry(key: row["key"], value: Array(row["value"] as Data))) {
                    try emit(chunk)
                }
            }
            if let chunk = chunker.finish() { try emit(chunk) }
            let manifest = SnapshotManifest(
                chainId: chainId, height: UInt64(tip["height"] as Int64), headerHash: try Self.hash(tip["hash"]),
                resultRoot: try Self.hash(tip["result_root"]), stateHash: try Self.hash(tip["state_hash"]), entryCount: count,
                chunkHashes: hashes)
            try Data(manifest.encoded).write(to: directory.appendingPathComponent("manifest"))
            return manifest
        }
    }

    /// Loads a snapshot whose manifest the caller has checked against its certificate
    /// (`SnapshotManifest.verifyCertificate`) into this store, which must hold no block
    /// (`store_not_empty`): the snapshot's block (`header`, whose hash the manifest names, with its
    /// verified finality `signatures`, and the manifest's result root and state hash) becomes the
    /// tip, and every entry of the chunks (`chunk(i)`, each checked by a `SnapshotReceiver`)
    /// becomes the state. One SQLite transaction: on any refusal nothing is loaded. Blocks below
    /// the snapshot's are not held (their bodies count as pruned); the next block commits on top.
    public func installSnapshot(
        _ manifest: SnapshotManifest, header: BlockHeader, signatures: [ValidatorSignature],
        chunk: (Int) throws -> [UInt8]
    ) throws {
        guard header.hash == manifest.headerHash, header.height == manifest.height, header.chainId == manifest.chainId,
            manifest.height >= 1
        else {
            throw ChainError(.snapshotMismatch, "the header given is not the snapshot's block")
        }
        try pool.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT MAX(height) FROM blocks") == nil else {
                throw ChainError(.storeNotEmpty, "this node already holds blocks; a snapshot loads only into an empty node")
            }
            try db.execute(
                sql: """
                    INSERT INTO blocks (height, hash, header, signatures, time, tx_count, result_root, state_hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    try Self.column(header.height), Data(header.hash.bytes), Data(header.encoded),
                    Data(ValidatorSignature.encodeList(signatures)), header.timestamp, Int64(header.txCount),
                    Data(manifest.resultRoot.bytes), Data(manifest.stateHash.bytes),
                ])
            let put = try db.cachedStatement(sql: "INSERT INTO state (key, value, height) VALUES (?, ?, ?)")
            var receiver = SnapshotReceiver(manifest: manifest, hasher: hasher)
            let height = try Self.column(manifest.height)
            for index in 0..<manifest.chunkHashes.count {
                for e in try receiver.accept(index: index, try chunk(index)) {
                    try put.execute(arguments: [e.key, Data(e.value), height])
                }
            }
            try receiver.finish()
            var bytes = [UInt8](repeating: 0, count: 8)
            let below = manifest.height + 1
            for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: below >> (8 * (7 - i))) }
            try db.execute(
                sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('bodies_pruned_below', ?)", arguments: [Data(bytes)])
        }
    }
}
