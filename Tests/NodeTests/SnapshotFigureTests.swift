import ChainCore
import ChainTesting
import Foundation
import Identity
import Logging
import Storage
import Testing

@testable import Node

/// The figure of docs/performance.md, "Joining from a snapshot": a new observer's time to load a
/// chain of N transactions from a certified snapshot against replaying its blocks. Runs only when
/// `XIANGCHAIN_SNAPSHOT_FIGURE_TXS` is set (it prints times; it asserts only that both ways end in
/// the same state and tip).
@Suite struct SnapshotFigureTests {
    static let count = ProcessInfo.processInfo.environment["XIANGCHAIN_SNAPSHOT_FIGURE_TXS"].flatMap(Int.init)

    @Test(.enabled(if: count != nil)) func joinFromASnapshotAgainstReplay() async throws {
        let count = try #require(Self.count)
        let consortium = try TestConsortium()
        try await withTemporaryDirectory { dir in
            let perBlock = 500
            let blocks = (count + perBlock - 1) / perBlock
            var config = NodeConfig(nodeId: "node0")
            config.snapshotInterval = blocks
            config.syncCommits = false
            config.maxBlockTxs = perBlock
            config.mempoolCapacity = perBlock * 2
            let node = try consortium.node(in: dir, config: config)
            let farm = try consortium.identity(.farm, org: "org1")
            var made = 0
            while made < count {
                for _ in 0..<min(perBlock, count - made) {
                    try node.submit(
                        try farm.transaction(
                            chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
                    made += 1
                }
                try node.produceBlock()
            }
            #expect(try await waitUntil(.seconds(600)) { node.snapshots?.heights().last == UInt64(blocks) })
            let manifest = try #require(try node.snapshots?.manifest(height: UInt64(blocks)))

            // Replay: a fresh observer verifies, executes and commits every block (fsync off, which favours replay).
            let replay = try consortium.observer(in: dir, name: "replay")
            let start = ContinuousClock.now
            var next: UInt64 = 1
            while true {
                let batch = try node.finalBlocks(from: next, limit: 64)
                if batch.isEmpty { break }
                for b in batch { try replay.commitCertified(b) }
                next += UInt64(batch.count)
            }
            let replayTime = ContinuousClock.now - start

            // Join: the same node's snapshot offer, checked and loaded.
            let store = try BlockStore(path: dir.appendingPathComponent("joined.sqlite").path, hasher: .sha256)
            try store.bindGenesis(hash: try consortium.genesis.hash, chainId: "test-chain")
            let join = SnapshotJoin(
                genesis: consortium.genesis, store: store, sources: [NodeSnapshotSource(node: node)],
                download: dir.appendingPathComponent("download"), logger: Logger(label: "join"))
            let joinStart = ContinuousClock.now
            #expect(try await join.run() == UInt64(blocks))
            let joinTime = ContinuousClock.now - joinStart

            #expect(try store.tip() == (try replay.store.tip()))
            #expect(try store.scan(prefix: "", limit: count + 100) == (try replay.store.scan(prefix: "", limit: count + 100)))
            print(
                "snapshot figure: \(count) transactions in \(blocks) blocks; state \(manifest.entryCount) entries in \(manifest.chunkHashes.count) chunks; replay \(replayTime); join \(joinTime)"
            )
        }
    }
}
