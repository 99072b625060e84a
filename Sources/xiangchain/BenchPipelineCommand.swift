import ArgumentParser
import Bench
import ChainCore
import Foundation
import NodeRuntime

/// `xiangchain bench-pipeline`: a validator's per-transaction work in one thread, for profiles and
/// comparisons of builds (hidden: a measurement tool, not an operator's command).
struct BenchPipelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-pipeline",
        abstract: "Run pre-signed evidence transactions through admission, execution and SQLite commit in one thread.",
        discussion: """
            prepare creates a one-validator network in <dir> and signs --count transactions for it; run reads \
            them as POST /v1/txs does, admits them --batch at a time and commits them --block at a time into a \
            fresh database, on the transactions' own clock, and prints what it did. See docs/performance.md.
            """,
        shouldDisplay: false)

    @Argument(help: "prepare or run.") var step: String
    @Option(help: "Working directory.") var dir: String
    @Option(help: "prepare: transactions to sign.") var count: Int = 2_000
    @Option(help: "prepare: crypto suite (ed25519: SHA-256, sm2: SM3).") var suite: CryptoSuite = .ed25519
    @Option(help: "run: only the first N prepared transactions.") var limit: Int?
    @Option(help: "run: transactions admitted together.") var batch: Int = 64
    @Option(help: "run: transactions per block.") var block: Int = 500
    @Flag(help: "run: fsync at every commit, as a node with syncCommits (the default).") var syncFull = false

    func run() async throws {
        let dir = URL(fileURLWithPath: dir)
        switch step {
        case "prepare":
            // The envelopes are built in memory (about 1 KiB each) and read back whole by a run.
            guard (1...200_000).contains(count) else { throw ValidationError("--count must be 1–200000") }
            let file = try PipelineBench.prepare(dir: dir, count: count, suite: suite)
            print("prepared \(count) transactions in \(file.path)")
        case "run":
            guard (1...10_000).contains(batch), (1...100_000).contains(block) else {
                throw ValidationError("--batch must be 1–10000 and --block 1–100000")
            }
            if let limit, limit < 1 { throw ValidationError("--limit must be positive") }
            let (limit, batch, block, syncFull) = (limit, batch, block, syncFull)
            // Blocking work (SQLite, signatures) off the cooperative pool.
            let o = try await OffPool.run {
                try PipelineBench.run(
                    dir: dir, limit: limit, batch: batch, blockSize: block, syncCommits: syncFull,
                    contracts: { config, genesis in ChainContracts.all(config: config, genesis: genesis) })
            }
            let perTx = o.threadCPUSeconds / Double(max(1, o.committed)) * 1e6
            print(
                "committed \(o.committed) transactions in \(o.blocks) \(o.blocks == 1 ? "block" : "blocks"): "
                    + String(format: "%.3f s thread CPU (%.1f µs per transaction), %.3f s", o.threadCPUSeconds, perTx, o.seconds))
        default:
            throw ValidationError("step must be prepare or run")
        }
    }
}
