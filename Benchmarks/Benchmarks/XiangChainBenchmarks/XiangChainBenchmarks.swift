import Benchmark
import ChainCore
import ChainTesting
import Consensus
import Foundation
import Node

/// Hot paths of a validator, one benchmark each: admission (decode + verify), the tx root of a
/// full block, a block's execution and SQLite commit, one contract call, consensus codec.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(3))

    let consortium = try! TestConsortium()
    let farm = try! consortium.identity(.farm)
    func signed(_ n: Int) -> [SignedTransaction] {
        (0..<n).map { _ in
            try! farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
        }
    }

    Benchmark("transaction decode + verify") { benchmark in
        let batch = TransactionBatch.encode(signed(1))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xc-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let verifier = try consortium.node(in: dir).verifier
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let tx = try TransactionBatch.decode(batch, maxCount: 1, hasher: .sha256)[0]
            blackHole(try verifier.verify(tx, nowMillis: Fixtures.now))
        }
    }

    Benchmark("Merkle root of 5,000 txids") { benchmark in
        let leaves = (0..<5000).map { _ in Hash256.sha256(Array(UUID().uuidString.utf8)).bytes }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(MerkleTree.root(leaves: leaves, hasher: .sha256)) }
    }

    Benchmark("block of 256 txs: execute + SQLite commit", configuration: .init(maxDuration: .seconds(5))) { benchmark in
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xc-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = try consortium.node(in: dir)
        for _ in benchmark.scaledIterations {
            benchmark.stopMeasurement()
            for tx in signed(256) { try node.submit(tx) }
            benchmark.startMeasurement()
            blackHole(try node.produceBlock())
        }
    }

    Benchmark("contract call: evidence put (execute one-tx block in memory)") { benchmark in
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xc-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = try consortium.node(in: dir)
        let txs = try signed(1000).map { try node.verifier.verify($0, nowMillis: Fixtures.now) }
        var i = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(
                try node.executor.execute(
                    [txs[i % txs.count]], height: 1, time: Fixtures.now, state: MemoryState(), previousStateHash: .zero))
            i += 1
        }
    }

    Benchmark("consensus message encode + decode (block response)") { benchmark in
        let genesis = ConsensusBlock.genesis(Hash256.sha256([1, 2, 3]))
        let message = ConsensusMessage.blockResponse([genesis])
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try ConsensusMessage.decode(message.encoded, hasher: .sha256)) }
    }
}
