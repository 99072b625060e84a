import ChainCore
import ChainTesting
import Foundation
import Storage
import Testing

/// State snapshots: written from one store, certified by a quorum, loaded into an empty store
/// that then continues the chain; every hostile variation is refused with its code and loads nothing.
@Suite struct StateSnapshotTests {
    /// Four validators of one set, and a second set with the same ids and other keys (another epoch's).
    let keys = (0..<4).map { _ in SigningKey.generate(.ed25519) }
    let otherKeys = (0..<4).map { _ in SigningKey.generate(.ed25519) }

    func check(_ set: [SigningKey]) -> FinalityCheck {
        FinalityCheck(
            keys: Dictionary(uniqueKeysWithValues: set.enumerated().map { ("node\($0)", $1.publicKeyBytes) }), quorum: 3,
            suite: .ed25519)
    }

    func certificate(_ manifest: SnapshotManifest, by set: [SigningKey], count: Int = 4) throws -> [ValidatorSignature] {
        try set.prefix(count).enumerated().map {
            ValidatorSignature(validator: "node\($0)", signature: try $1.sign(manifest.signingMessage(hasher: .sha256)))
        }
    }

    /// A store of 6 blocks whose state holds 200 more entries (keys of several byte lengths and
    /// non-ASCII ones) written by block 2.
    func source(_ dir: URL) throws -> (BlockStore, ChainBuilder) {
        let store = try BlockStore(path: dir.appendingPathComponent("a.sqlite").path, hasher: .sha256)
        try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
        var builder = ChainBuilder()
        for h in 1...6 {
            var c = builder.next(txCount: h % 3)
            if h == 2 {
                let extra = (0..<200).map { i in
                    StateWrite(key: "crab/\(i % 7 == 0 ? "蟹" : "k")\(i)", value: Array(repeating: UInt8(i % 251), count: i))
                }
                c = BlockCommit(
                    block: c.block, transactions: c.transactions, writes: c.writes + extra, resultRoot: c.resultRoot,
                    stateHash: c.stateHash)
            }
            try store.commit(c)
        }
        return (store, builder)
    }

    func all(_ store: BlockStore) throws -> [StateEntry] { try store.scan(prefix: "", limit: 100_000) }

    func chunks(_ dir: URL, _ manifest: SnapshotManifest) throws -> [[UInt8]] {
        try (0..<manifest.chunkCount).map {
            Array(try Data(contentsOf: dir.appendingPathComponent(BlockStore.snapshotChunkName($0))))
        }
    }

    func emptyStore(_ dir: URL, _ name: String = "b") throws -> BlockStore {
        let store = try BlockStore(path: dir.appendingPathComponent("\(name).sqlite").path, hasher: .sha256)
        try store.bindGenesis(hash: Hash256.sha256([1]), chainId: "c")
        return store
    }

    @Test func aCertifiedSnapshotLoadsIntoAnEmptyStoreWhichContinuesTheChain() async throws {
        try await withTemporaryDirectory { dir in
            let (a, built) = try source(dir)
            var builder = built
            let snap = dir.appendingPathComponent("snap")
            let manifest = try a.writeStateSnapshot(chainId: "c", timestampToleranceMs: 600_000, to: snap, chunkBytes: 2_000)
            #expect(manifest.height == 6 && manifest.entryCount == 201)
            #expect(manifest.chunkHashes.count > 5)
            #expect(manifest.headerHash == (try a.tip())?.hash)
            #expect(
                try SnapshotManifest(decoding: Array(try Data(contentsOf: snap.appendingPathComponent("manifest")))) == manifest)
            let valid = try manifest.verifyCertificate(try certificate(manifest, by: keys, count: 3), check: check(keys))
            #expect(valid.count == 3)

            let b = try emptyStore(dir)
            let header = try #require(try a.block(at: 6))
            let parts = try chunks(snap, manifest)
            try b.installSnapshot(manifest, header: header.header, signatures: header.signatures) { parts[$0] }
            #expect(try all(b) == (try all(a)))
            #expect(try b.tip() == (try a.tip()))
            #expect(try b.bodiesPrunedBelow() == 7)
            #expect(errorCode { try b.fullBlock(at: 6) } == "pruned")
            // The next block extends both alike.
            let next = builder.next(txCount: 2)
            try a.commit(next)
            try b.commit(next)
            #expect(try b.tip() == (try a.tip()))
            #expect(try b.fullBlock(at: 7)?.transactions == next.block.transactions)
            #expect(try all(b) == (try all(a)))
            // Loading again into a store with blocks is refused.
            #expect(
                errorCode { try b.installSnapshot(manifest, header: header.header, signatures: []) { parts[$0] } }
                    == "store_not_empty")
        }
    }

    @Test func hostileSnapshotsAreRefusedWithTheirCodeAndLoadNothing() async throws {
        try await withTemporaryDirectory { dir in
            let (a, _) = try source(dir)
            let snap = dir.appendingPathComponent("snap")
            let manifest = try a.writeStateSnapshot(chainId: "c", timestampToleranceMs: 600_000, to: snap, chunkBytes: 2_000)
            let header = try #require(try a.block(at: 6)).header
            let parts = try chunks(snap, manifest)
            let b = try emptyStore(dir)
            func install(_ m: SnapshotManifest = manifest, header h: BlockHeader = header, _ chunk: @escaping (Int) -> [UInt8])
                -> String
            {
                errorCode { try b.installSnapshot(m, header: h, signatures: []) { chunk($0) } }
            }

            // One altered value in one chunk.
            var altered = parts[2]
            altered[altered.count - 1] ^= 0x01
            #expect(install { $0 == 2 ? altered : parts[$0] } == "snapshot_mismatch")
            // Chunks out of order, a chunk missing at the end, garbage, an oversized chunk.
            #expect(install { parts[($0 + 1) % parts.count] } == "snapshot_mismatch")
            #expect(install { (0..<64).map { _ in UInt8.random(in: 0...255) } + [UInt8($0)] } == "snapshot_mismatch")
            #expect(install { _ in [UInt8](repeating: 7, count: SnapshotChunk.maxBytes + 1) } == "snapshot_chunk_too_large")
            let short = SnapshotManifest(
                chainId: "c", height: 6, headerHash: manifest.headerHash, resultRoot: manifest.resultRoot,
                stateHash: manifest.stateHash, entryCount: manifest.entryCount,
                chunkHashes: Array(manifest.chunkHashes.dropLast()), committedSince: manifest.committedSince,
                committedCount: manifest.committedCount, committedChunkHashes: manifest.committedChunkHashes)
            #expect(install(short) { parts[$0] } == "snapshot_mismatch")
            // A chunk whose hash is listed but whose keys go backwards (a manifest built to match it).
            let backwards = SnapshotChunk.encode([StateEntry(key: "b", value: [1]), StateEntry(key: "a", value: [2])])
            let forged = SnapshotManifest(
                chainId: "c", height: 6, headerHash: manifest.headerHash, resultRoot: manifest.resultRoot,
                stateHash: manifest.stateHash, entryCount: 2, chunkHashes: [Hash256.sha256(backwards)], committedSince: 0,
                committedCount: 0, committedChunkHashes: [])
            #expect(install(forged) { _ in backwards } == "snapshot_mismatch")
            // More entries than the manifest counts.
            let overCount = SnapshotManifest(
                chainId: "c", height: 6, headerHash: manifest.headerHash, resultRoot: manifest.resultRoot,
                stateHash: manifest.stateHash, entryCount: 3, chunkHashes: manifest.chunkHashes,
                committedSince: manifest.committedSince, committedCount: manifest.committedCount,
                committedChunkHashes: manifest.committedChunkHashes)
            #expect(install(overCount) { parts[$0] } == "snapshot_mismatch")
            // Another block's header.
            #expect(install(header: try #require(try a.block(at: 5)).header) { parts[$0] } == "snapshot_mismatch")
            // Nothing of any attempt was loaded.
            #expect(try b.tip() == nil)
            #expect(try all(b).isEmpty)
            #expect(try b.bodiesPrunedBelow() == 1)

            // The certificate: short of a quorum, another epoch's set, or a manifest altered after signing.
            let sigs = try certificate(manifest, by: keys)
            #expect(errorCode { try manifest.verifyCertificate(Array(sigs.prefix(2)), check: check(keys)) } == "no_quorum")
            #expect(
                errorCode { try manifest.verifyCertificate(Array(sigs.prefix(2)) + [sigs[0], sigs[1]], check: check(keys)) }
                    == "no_quorum")
            #expect(
                errorCode { try manifest.verifyCertificate(try certificate(manifest, by: otherKeys), check: check(keys)) }
                    == "no_quorum")
            let tampered = SnapshotManifest(
                chainId: "c", height: 6, headerHash: manifest.headerHash, resultRoot: manifest.resultRoot,
                stateHash: manifest.stateHash, entryCount: manifest.entryCount,
                chunkHashes: [Hash256.sha256(altered)] + manifest.chunkHashes.dropFirst(),
                committedSince: manifest.committedSince, committedCount: manifest.committedCount,
                committedChunkHashes: manifest.committedChunkHashes)
            #expect(errorCode { try tampered.verifyCertificate(sigs, check: check(keys)) } == "no_quorum")
            #expect(try manifest.verifyCertificate(sigs, check: check(keys)).count == 4)
        }
    }

    @Test func theReceiverTakesChunksOnlyInOrderAndResumesWhereItStopped() throws {
        let entries = (0..<10).map { StateEntry(key: "k\($0)", value: [UInt8($0)]) }
        let chunks = [SnapshotChunk.encode(Array(entries[0..<4])), SnapshotChunk.encode(Array(entries[4...]))]
        let manifest = SnapshotManifest(
            chainId: "c", height: 3, headerHash: .zero, resultRoot: .zero, stateHash: .zero, entryCount: 10,
            chunkHashes: chunks.map { Hash256.sha256($0) }, committedSince: 0, committedCount: 0, committedChunkHashes: [])
        var r = SnapshotReceiver(manifest: manifest, hasher: .sha256, blockTime: 3_000)
        #expect(errorCode { try r.accept(index: 1, chunks[1]) } == "snapshot_out_of_order")
        #expect(errorCode { try r.finish() } == "snapshot_mismatch")
        #expect(try r.accept(index: 0, chunks[0]) == Array(entries[0..<4]))
        #expect(errorCode { try r.accept(index: 0, chunks[0]) } == "snapshot_out_of_order")
        #expect(r.nextChunk == 1 && r.lastKey == "k3" && r.entries == 4)
        #expect(try r.accept(index: 1, chunks[1]) == Array(entries[4...]))
        try r.finish()
        #expect(errorCode { try r.accept(index: 2, chunks[1]) } == "snapshot_out_of_order")
        // A second chunk whose first key does not come after the first chunk's last.
        #expect(errorCode { try SnapshotChunk.decode(chunks[0], after: "k3") } == "snapshot_mismatch")
        // Manifests: trailing bytes, another tag, a chunk count beyond the bound.
        #expect(errorCode { try SnapshotManifest(decoding: manifest.encoded + [0]) } == "decoding_failed")
        var w = BinaryWriter()
        w.string("XIANGCHAIN-BLOCK-V1")
        #expect(errorCode { try SnapshotManifest(decoding: w.bytes) } == "snapshot_mismatch")
        var big = BinaryWriter()
        big.string(SnapshotManifest.domain)
        big.string("c")
        big.u64(3)
        for _ in 0..<3 { big.hash(.zero) }
        big.u64(0)
        big.u32(UInt32(SnapshotManifest.maxChunks + 1))
        #expect(errorCode { try SnapshotManifest(decoding: big.bytes) } == "snapshot_mismatch")
        // An empty state is one manifest with no chunk.
        let empty = SnapshotManifest(
            chainId: "c", height: 1, headerHash: .zero, resultRoot: .zero, stateHash: .zero, entryCount: 0, chunkHashes: [],
            committedSince: 0, committedCount: 0, committedChunkHashes: [])
        try SnapshotReceiver(manifest: empty, hasher: .sha256, blockTime: 1_000).finish()
        // A chunk that claims more entries than its bytes could hold.
        var liar = BinaryWriter()
        liar.u32(1_000_000)
        #expect(errorCode { try SnapshotChunk.decode(liar.bytes, after: nil) } == "snapshot_mismatch")
    }
}
