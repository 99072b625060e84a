import ChainCore
import ChainTesting
import Foundation
import Testing

@testable import Storage

/// The ids of recently committed transactions a state snapshot carries: the window (blocks within
/// twice the timestamp tolerance of the snapshot's), their load into the joined store (which then
/// answers them as committed), the same snapshot written by a joined store as by its peers, and
/// every hostile committed-id chunk refused with nothing loaded.
@Suite struct StateSnapshotCommittedIDTests {
    let base = StateSnapshotTests()

    /// The ids of the transactions of blocks `heights` of `store`.
    func ids(_ store: BlockStore, _ heights: ClosedRange<UInt64>) throws -> [Hash256] {
        try heights.flatMap { try #require(try store.block(at: $0)).txids }
    }

    @Test func theSnapshotCarriesTheIdsOfItsWindowAndTheJoinedStoreKnowsThemCommitted() async throws {
        try await withTemporaryDirectory { dir in
            // Blocks 1–6 at 1 s, 2 s, … 6 s; blocks 1, 2, 4, 5 hold 1, 2, 1, 2 transactions.
            let (a, built) = try base.source(dir)
            var builder = built
            let snap = dir.appendingPathComponent("snap")
            // Tolerance 1 s: the window is the blocks from 6 s − 2 s = 4 s on (4, 5, 6); block 2's
            // ids are older than twice the tolerance and are not carried, block 4's (at the very
            // bound) and 5's are.
            let manifest = try a.writeStateSnapshot(chainId: "c", timestampToleranceMs: 1_000, to: snap, chunkBytes: 2_000)
            let inside = try ids(a, 4...6)
            let outside = try ids(a, 1...3)
            #expect(manifest.committedSince == 4_000 && manifest.committedCount == 3 && inside.count == 3)
            #expect(manifest.committedChunkHashes.count == 1 && manifest.chunkCount == manifest.chunkHashes.count + 1)
            let parts = try base.chunks(snap, manifest)
            let carried = try CommittedIDChunk.decode(parts.last!, after: nil, times: 4_000...6_000)
            #expect(carried.map(\.id) == inside.sorted())
            #expect(Set(carried.map(\.blockTime)) == [4_000, 5_000])

            let b = try base.emptyStore(dir)
            // Before the load the joined store cannot tell.
            #expect(try b.committedIDs(among: inside).isEmpty)
            let header = try #require(try a.block(at: 6))
            try b.installSnapshot(manifest, header: header.header, signatures: header.signatures) { parts[$0] }
            #expect(try b.committedIDs(among: inside + outside) == Set(inside))
            // The replay filter leaves to the database every timestamp a carried transaction may
            // have: up to the snapshot block's time (6 s) plus the tolerance.
            #expect(b.replayFloor == 7_000)
            #expect(try b.committedIDs(among: (inside + outside).map { ($0, Int64(7_000)) }) == Set(inside))
            #expect(errorCode { try b.transaction(inside[0]) } == "pruned")
            #expect(try b.transaction(outside[0]) == nil)
            // It settles transactions from 6 s − 1 s on (older ones may be from before the window).
            #expect(try b.snapshotEarliestTimestamp() == 5_000)
            #expect(try a.snapshotEarliestTimestamp() == nil)

            // Block 7 on both; a snapshot with a 1.5 s tolerance reaches from 7 s − 3 s = 4 s,
            // below the block b started from: b carries them on, and both write the same snapshot.
            let next = builder.next(txCount: 2)
            try a.commit(next)
            try b.commit(next)
            let fromA = try a.writeStateSnapshot(
                chainId: "c", timestampToleranceMs: 1_500, to: dir.appendingPathComponent("a7"), chunkBytes: 2_000)
            let fromB = try b.writeStateSnapshot(
                chainId: "c", timestampToleranceMs: 1_500, to: dir.appendingPathComponent("b7"), chunkBytes: 2_000)
            #expect(fromA.committedCount == 5 && fromA.committedSince == 4_000)
            #expect(fromB == fromA)
            #expect(fromB.digest(hasher: .sha256) == fromA.digest(hasher: .sha256))
            // With 0.5 s, only block 7's: the carried ones below it fall out.
            let narrow = try b.writeStateSnapshot(
                chainId: "c", timestampToleranceMs: 500, to: dir.appendingPathComponent("b7n"), chunkBytes: 2_000)
            #expect(narrow.committedCount == 2 && narrow.committedSince == 6_000)
        }
    }

    @Test func hostileCommittedIDChunksAreRefusedAndLoadNothing() async throws {
        try await withTemporaryDirectory { dir in
            let (a, _) = try base.source(dir)
            let snap = dir.appendingPathComponent("snap")
            // Every block in the window; chunks of 2 ids: 6 ids in 3 chunks after the state's.
            let manifest = try a.writeStateSnapshot(chainId: "c", timestampToleranceMs: 600_000, to: snap, chunkBytes: 84)
            #expect(manifest.committedCount == 6 && manifest.committedChunkHashes.count == 3)
            let header = try #require(try a.block(at: 6)).header
            let parts = try base.chunks(snap, manifest)
            let first = manifest.chunkHashes.count
            let b = try base.emptyStore(dir)
            func install(_ m: SnapshotManifest = manifest, _ chunk: @escaping (Int) -> [UInt8]) -> String {
                errorCode { try b.installSnapshot(m, header: header, signatures: []) { chunk($0) } }
            }
            func variant(count: UInt64? = nil, since: Int64? = nil, hashes: [Hash256]? = nil) -> SnapshotManifest {
                SnapshotManifest(
                    chainId: "c", height: 6, headerHash: manifest.headerHash, resultRoot: manifest.resultRoot,
                    stateHash: manifest.stateHash, entryCount: manifest.entryCount, chunkHashes: manifest.chunkHashes,
                    committedSince: since ?? manifest.committedSince, committedCount: count ?? manifest.committedCount,
                    committedChunkHashes: hashes ?? manifest.committedChunkHashes)
            }
            // One altered byte of an id.
            var altered = parts[first + 1]
            altered[10] ^= 0x01
            #expect(install { $0 == first + 1 ? altered : parts[$0] } == "snapshot_mismatch")
            // Two committed-id chunks swapped, a chunk missing (listed, then another served), one
            // chunk dropped from the manifest (the count no longer adds up), an oversized chunk.
            #expect(
                install { $0 == first ? parts[first + 1] : $0 == first + 1 ? parts[first] : parts[$0] } == "snapshot_mismatch")
            #expect(install { $0 == first + 2 ? parts[first + 1] : parts[$0] } == "snapshot_mismatch")
            #expect(
                install(variant(hashes: Array(manifest.committedChunkHashes.dropLast()))) { parts[$0] } == "snapshot_mismatch")
            #expect(
                install { $0 == first ? [UInt8](repeating: 0, count: SnapshotChunk.maxBytes + 1) : parts[$0] }
                    == "snapshot_chunk_too_large")
            // More ids than counted, fewer than counted.
            #expect(install(variant(count: 5)) { parts[$0] } == "snapshot_mismatch")
            #expect(install(variant(count: 7)) { parts[$0] } == "snapshot_mismatch")
            // Chunks whose hashes a forged manifest lists: ids going backwards across chunks, ids
            // repeated, a block time outside the window, a length that is not whole ids.
            let sorted = try (0..<3).flatMap {
                try CommittedIDChunk.decode(parts[first + $0], after: nil, times: Int64.min...Int64.max)
            }
            func forged(_ chunks: [[UInt8]], count: Int, since: Int64 = 0) -> String {
                let m = variant(count: UInt64(count), since: since, hashes: chunks.map { Hash256.sha256($0) })
                return install(m) { $0 < first ? parts[$0] : chunks[$0 - first] }
            }
            #expect(
                forged([CommittedIDChunk.encode(Array(sorted[3...])), CommittedIDChunk.encode(Array(sorted[..<3]))], count: 6)
                    == "snapshot_mismatch")
            #expect(forged([CommittedIDChunk.encode([sorted[0], sorted[0]])], count: 2) == "snapshot_mismatch")
            #expect(
                forged([CommittedIDChunk.encode([CommittedID(id: sorted[0].id, blockTime: 7_000)])], count: 1)
                    == "snapshot_mismatch")
            #expect(forged([CommittedIDChunk.encode(sorted) + [0]], count: 6) == "snapshot_mismatch")
            // A window starting after the block itself.
            #expect(forged([CommittedIDChunk.encode(sorted)], count: 6, since: 6_001) == "snapshot_mismatch")
            // Nothing of any attempt was loaded.
            #expect(try b.tip() == nil)
            #expect(try base.all(b).isEmpty)
            #expect(try b.committedIDs(among: sorted.map(\.id)).isEmpty)
            #expect(try b.snapshotEarliestTimestamp() == nil)
            // The genuine one loads.
            #expect(install { parts[$0] } == "(no error)")
            #expect(try b.committedIDs(among: sorted.map(\.id)).count == 6)

            // The receiver itself: a committed-id chunk out of turn, or a state chunk in its place.
            var r = SnapshotReceiver(manifest: manifest, hasher: .sha256, blockTime: header.timestamp)
            #expect(errorCode { try r.acceptCommitted(index: 0, parts[0]) } == "snapshot_out_of_order")
            #expect(errorCode { try r.acceptCommitted(index: first, parts[first]) } == "snapshot_out_of_order")
            for i in 0..<first { _ = try r.accept(index: i, parts[i]) }
            #expect(errorCode { try r.accept(index: first, parts[first]) } == "snapshot_out_of_order")
            #expect(errorCode { try r.acceptCommitted(index: first + 1, parts[first + 1]) } == "snapshot_out_of_order")
            #expect(try r.acceptCommitted(index: first, parts[first]).count == 2)
            #expect(r.committed == 2 && r.lastID == sorted[1].id)
        }
    }

    @Test func aFirstVersionManifestIsRefusedAsOutdated() {
        var w = BinaryWriter()
        w.string(SnapshotManifest.domainV1)
        w.string("c")
        w.u64(3)
        for _ in 0..<3 { w.hash(.zero) }
        w.u64(0)
        w.u32(0)
        #expect(errorCode { try SnapshotManifest(decoding: w.bytes) } == "snapshot_outdated")
        // The committed-id chunk count is bounded together with the state's.
        var big = BinaryWriter()
        big.string(SnapshotManifest.domain)
        big.string("c")
        big.u64(3)
        for _ in 0..<3 { big.hash(.zero) }
        big.u64(0)
        big.u32(1)
        big.hash(.zero)
        big.i64(0)
        big.u64(0)
        big.u32(UInt32(SnapshotManifest.maxChunks))
        #expect(errorCode { try SnapshotManifest(decoding: big.bytes) } == "snapshot_mismatch")
    }
}
