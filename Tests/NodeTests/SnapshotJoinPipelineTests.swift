import ChainCore
import ChainTesting
import Foundation
import Logging
import Storage
import Synchronization
import Testing

@testable import Node

/// Serves a snapshot from a directory of chunk files with a fixed offer; records the chunks asked
/// for, and can serve some altered or fail from some index on.
struct DirectorySnapshotSource: SnapshotSource {
    let name: String
    let offer: JSONValue
    let directory: URL
    var altered: Set<Int> = []
    var failFrom: Int?
    let asked = Asked()

    final class Asked: Sendable {
        let indexes = Mutex<[Int]>([])
    }

    func latestSnapshot() async throws -> JSONValue? { offer }

    func snapshotChunk(height: UInt64, index: Int) async throws -> [UInt8] {
        asked.indexes.withLock { $0.append(index) }
        if let failFrom, index >= failFrom { throw ChainError(.nodeUnavailable, "\(name) went away") }
        var bytes = Array(try Data(contentsOf: directory.appendingPathComponent(BlockStore.snapshotChunkName(index))))
        if altered.contains(index) { bytes[bytes.count - 1] ^= 1 }
        return bytes
    }

    var askedFor: [Int] { asked.indexes.withLock { $0 } }
}

/// The join's pipeline: several chunk requests in flight over several sources, the load running as
/// chunks arrive in one SQLite transaction, at most a window of chunks held in memory.
@Suite struct SnapshotJoinPipelineTests {
    let consortium: TestConsortium
    let base: SnapshotJoinTests
    init() throws {
        base = try SnapshotJoinTests()
        consortium = base.consortium
    }

    /// The node's state at its tip re-cut into chunks of about `chunkBytes` (many of them) in
    /// `dir/cut`, with an offer the validator signs; `entryCount` and `replace` (chunk index →
    /// bytes) forge a manifest a Byzantine quorum would sign.
    func cut(
        _ node: ChainNode, _ dir: URL, chunkBytes: Int = 300, entryCount: UInt64? = nil, replace: [Int: [UInt8]] = [:]
    ) throws -> (JSONValue, SnapshotManifest, URL) {
        let folder = dir.appendingPathComponent("cut-\(UUID().uuidString)")
        let written = try node.store.writeStateSnapshot(
            chainId: "test-chain", timestampToleranceMs: 600_000, to: folder, chunkBytes: chunkBytes)
        var hashes = written.chunkHashes
        for (index, bytes) in replace {
            try Data(bytes).write(to: folder.appendingPathComponent(BlockStore.snapshotChunkName(index)))
            hashes[index] = Hash256.sha256(bytes)
        }
        let manifest = SnapshotManifest(
            chainId: written.chainId, height: written.height, headerHash: written.headerHash, resultRoot: written.resultRoot,
            stateHash: written.stateHash, entryCount: entryCount ?? written.entryCount, chunkHashes: hashes,
            committedSince: written.committedSince, committedCount: written.committedCount,
            committedChunkHashes: written.committedChunkHashes)
        let block = try #require(try node.store.block(at: manifest.height))
        func list(_ sigs: [ValidatorSignature]) -> JSONValue {
            .array(
                sigs.map {
                    .object([
                        "validator": .string($0.validator), "signature": .string(Data($0.signature).base64EncodedString()),
                    ])
                })
        }
        let signature = ValidatorSignature(
            validator: "node0", signature: try consortium.nodeKey.sign(manifest.signingMessage(hasher: .sha256)))
        let offer = JSONValue.object([
            "height": .int(Int64(manifest.height)), "manifest": .string(Data(manifest.encoded).base64EncodedString()),
            "header": .string(Data(block.header.encoded).base64EncodedString()), "signatures": list([signature]),
            "headerSignatures": list(block.signatures), "epochs": .array([]),
        ])
        return (offer, manifest, folder)
    }

    /// A join into `dir/observer0.sqlite`, bound to the genesis and not held open (so the loaded
    /// database replaces it); `store()` opens it afterwards.
    func join(_ dir: URL, _ sources: [any SnapshotSource], parallel: Int = 4, window: Int = 3) throws -> (
        store: () throws -> BlockStore, join: SnapshotJoin
    ) {
        let path = dir.appendingPathComponent("observer0.sqlite").path
        try BlockStore(path: path, hasher: .sha256).bindGenesis(hash: try consortium.genesis.hash, chainId: "test-chain")
        return (
            { try BlockStore(path: path, hasher: .sha256) },
            SnapshotJoin(
                genesis: consortium.genesis, databasePath: path, sources: sources,
                download: dir.appendingPathComponent("download"), logger: Logger(label: "join"), parallel: parallel,
                window: window)
        )
    }

    func expectEmpty(_ store: BlockStore, _ node: ChainNode) throws {
        #expect(try store.tip() == nil)
        #expect(try store.scan(prefix: "", limit: 10).isEmpty)
        #expect(try store.committedIDs(among: try node.store.block(at: 10)?.txids ?? []).isEmpty)
    }

    @Test func chunksComeFromSeveralSourcesAtOnceAndABadOnesChunksFromAnother() async throws {
        try await withTemporaryDirectory { dir in
            let node = try await base.chain(in: dir)
            let (offer, manifest, folder) = try cut(node, dir)
            #expect(manifest.chunkHashes.count >= 8 && manifest.committedChunkHashes.count >= 4)
            let all = Array(0..<manifest.chunkCount)
            // The first source alters every chunk it is asked for first (the even ones: each index
            // starts at another source); the second serves them right.
            let bad = DirectorySnapshotSource(
                name: "bad", offer: offer, directory: folder, altered: Set(all.filter { $0 % 2 == 0 }))
            let good = DirectorySnapshotSource(name: "good", offer: offer, directory: folder)
            // A crash while building the database beside the empty one left that file behind.
            let path = dir.appendingPathComponent("observer0.sqlite").path
            try Data("torn".utf8).write(to: URL(fileURLWithPath: path + ".joining"))
            try Data("torn".utf8).write(to: URL(fileURLWithPath: path + ".joining-journal"))
            let (open, join) = try join(dir, [bad, good])
            #expect(try await join.run() == 10)
            #expect(!FileManager.default.fileExists(atPath: path + ".joining"))
            #expect(!FileManager.default.fileExists(atPath: path + ".joining-journal"))
            let store = try open()
            #expect(try store.bodiesPrunedBelow() == 11)
            #expect(try store.scan(prefix: "", limit: 10_000) == (try node.store.scan(prefix: "", limit: 10_000)))
            #expect(try store.tip() == (try node.store.tip()))
            let ids = try #require(try node.store.fullBlock(at: 10)).transactions.map(\.id)
            #expect(try store.committedIDs(among: ids) == Set(ids))
            // Each chunk was asked of the bad source only when it was that chunk's first source.
            #expect(bad.askedFor.sorted() == all.filter { $0 % 2 == 0 })
            #expect(good.askedFor.sorted() == all)
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("download").path))
        }
    }

    @Test func aLoadCutOffMidwayLoadsNothingAndTheNextJoinTakesTheStagedChunks() async throws {
        try await withTemporaryDirectory { dir in
            let node = try await base.chain(in: dir)
            let (offer, manifest, folder) = try cut(node, dir)
            let cutAt = manifest.chunkHashes.count - 2
            // Every source goes away at the same chunk: the chunks before it were loaded already.
            let failing = [
                DirectorySnapshotSource(name: "a", offer: offer, directory: folder, failFrom: cutAt),
                DirectorySnapshotSource(name: "b", offer: offer, directory: folder, failFrom: cutAt),
            ]
            let (open, first) = try join(dir, failing)
            await #expect(throws: ChainError.self) { try await first.run() }
            try expectEmpty(try open(), node)
            let path = dir.appendingPathComponent("observer0.sqlite").path
            #expect(!FileManager.default.fileExists(atPath: path + ".joining"))
            let download = dir.appendingPathComponent("download")
            let staged = Set(
                try FileManager.default.contentsOfDirectory(atPath: download.path).compactMap { name in
                    (0..<manifest.chunkCount).first { BlockStore.snapshotChunkName($0) == name }
                })
            #expect(staged.isSuperset(of: 0..<cutAt) && !staged.contains(cutAt))
            // The next join asks only for the chunks not staged, and loads the whole snapshot.
            let good = DirectorySnapshotSource(name: "good", offer: offer, directory: folder)
            let (_, second) = try join(dir, [good])
            #expect(try await second.run() == 10)
            #expect(Set(good.askedFor) == Set(0..<manifest.chunkCount).subtracting(staged))
            let store = try open()
            #expect(try store.scan(prefix: "", limit: 10_000) == (try node.store.scan(prefix: "", limit: 10_000)))
        }
    }

    @Test func aCertifiedChunkRefusedAfterOthersWereInsertedLoadsNothing() async throws {
        try await withTemporaryDirectory { dir in
            let node = try await base.chain(in: dir)
            let (_, manifest, _) = try cut(node, dir)
            // A manifest counting one entry more (the last check, after every chunk went in), and
            // one whose fourth chunk, listed by its hash, has its keys going backwards.
            let backwards = SnapshotChunk.encode([StateEntry(key: "z", value: [1]), StateEntry(key: "y", value: [2])])
            for forged in [
                try cut(node, dir, entryCount: manifest.entryCount + 1), try cut(node, dir, replace: [3: backwards]),
            ] {
                let source = DirectorySnapshotSource(name: "forged", offer: forged.0, directory: forged.2)
                let (open, join) = try join(dir, [source])
                do {
                    try await join.run()
                    Issue.record("loaded")
                } catch let e as ChainError {
                    #expect(e.code == .snapshotMismatch, "\(e)")
                }
                try expectEmpty(try open(), node)
            }
        }
    }

    @Test func theFeedHoldsAtMostItsWindowAndEndsBothSidesOnAFailure() async throws {
        let manifest = SnapshotManifest(
            chainId: "c", height: 1, headerHash: .zero, resultRoot: .zero, stateHash: .zero, entryCount: 0,
            chunkHashes: (0..<6).map { Hash256.sha256([UInt8($0)]) }, committedSince: 0, committedCount: 0,
            committedChunkHashes: [])
        func chunk(_ i: Int) throws -> CheckedSnapshotChunk {
            try CheckedSnapshotChunk(index: i, [UInt8(i)], manifest: manifest, hasher: .sha256)
        }
        let feed = SnapshotChunkFeed(count: 6, window: 2)
        #expect(await feed.claim() == 0)
        #expect(await feed.claim() == 1)
        // The window is full: the next claim waits until the load takes chunk 0.
        let third = Task { await feed.claim() }
        feed.deliver(try chunk(1))
        feed.deliver(try chunk(0))
        #expect(feed.held == 2)
        #expect(try feed.take(0).index == 0)
        #expect(await third.value == 2)
        #expect(try feed.take(1).bytes == [1])
        #expect(feed.held == 0)
        // A failure ends the claims and the load's wait.
        let waiting = Task {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<CheckedSnapshotChunk, any Error>) in
                DispatchQueue.global().async { c.resume(with: Result { try feed.take(2) }) }
            }
        }
        feed.fail(ChainError(.nodeUnavailable, "gone"))
        await #expect(throws: ChainError.self) { try await waiting.value }
        #expect(await feed.claim() == nil)
        #expect(feed.held == 0)
    }
}
