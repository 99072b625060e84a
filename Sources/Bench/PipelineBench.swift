import ChainCore
import CoreFoundation
import Execution
import Foundation
import Identity
import Launcher
import Logging
import Node

/// The per-transaction work every validator does, in one process and one thread, on a fixed set
/// of pre-signed transactions and a fixed clock: each envelope read as `POST /v1/txs` reads it,
/// admitted in batches as the submission stream admits them (one check of their signatures, the
/// replay check, the mempool), then cut into blocks that are executed and committed to SQLite as
/// a solo node commits them. No network, no consensus, no HTTP: those are the live bench's
/// (`xiangchain bench`).
///
/// It exists for profiles (`perf record` of one thread doing only this work) and for comparing
/// two builds where the live bench's five processes on two cores blur small differences. An
/// instruction count would be the steadier measure, but this machine has neither hardware
/// counters nor a valgrind that runs the binary (`docs/performance.md`, twenty-first pass), so
/// compare the thread CPU time of alternating runs, by their minimum. The clock is the
/// transactions' own timestamp, so a run does the same work whenever it is made.
public enum PipelineBench {
    /// The prepared transactions, one `POST /v1/txs` envelope per line.
    static func transactionsFile(_ dir: URL) -> URL { dir.appendingPathComponent("pipeline-txs.jsonl") }
    /// The network the transactions were signed for (one validator).
    static func networkDir(_ dir: URL) -> URL { dir.appendingPathComponent("network") }
    /// The clock of every run: the transactions' timestamp.
    static func clockFile(_ dir: URL) -> URL { dir.appendingPathComponent("pipeline-clock") }

    /// Creates a one-validator network of `suite` in `dir` and signs `count` evidence
    /// transactions for it (unique document hashes, one timestamp). Returns the file of envelopes.
    @discardableResult
    public static func prepare(dir: URL, count: Int, suite: CryptoSuite = .ed25519) throws -> URL {
        guard count > 0 else { throw ChainError(.invalidParameter, "count must be positive") }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let layout = try BenchRunner.prepareNetwork(at: networkDir(dir), nodes: 1, basePort: nil, suite: suite)
        let signer = try SigningIdentity(directory: layout.identityDir("bench-load"))
        let chain = try NodeHome(layout.nodeHome(0)).genesis.chainId
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let run = UUID().uuidString
        var out = [UInt8]()
        for i in 0..<count {
            let call = BenchCall.evidence(signer, i, run: run)
            let tx = try signer.transaction(
                chain: chain, contract: call.contract, method: call.method, args: call.args, nonce: "p\(now)-\(i)", timestamp: now
            )
            out += Presigned.envelope(tx).canonicalBytes
            out.append(UInt8(ascii: "\n"))
        }
        try Data(out).write(to: transactionsFile(dir))
        try Data("\(now)\n".utf8).write(to: clockFile(dir))
        return transactionsFile(dir)
    }

    /// What one run did.
    public struct Outcome: Sendable {
        /// Transactions committed.
        public let committed: Int
        /// Blocks committed.
        public let blocks: Int
        /// CPU time of the thread that ran the pipeline (s).
        public let threadCPUSeconds: Double
        /// Wall time of the pipeline (s).
        public let seconds: Double
    }

    /// Runs the first `limit` (all when nil) prepared transactions of `dir` through a fresh
    /// database: read, admitted `batch` at a time, committed `blockSize` at a time. Fails unless
    /// every one is admitted and committed.
    public static func run(
        dir: URL, limit: Int?, batch: Int, blockSize: Int, syncCommits: Bool, contracts: (NodeConfig, Genesis) -> [any Contract]
    ) throws -> Outcome {
        guard batch > 0, blockSize > 0 else { throw ChainError(.invalidParameter, "batch and block size must be positive") }
        guard let file = try? Data(contentsOf: transactionsFile(dir)) else {
            throw ChainError(.badConfig, "no prepared transactions in \(dir.path) (bench-pipeline prepare first)")
        }
        let lines = [UInt8](file).split(separator: UInt8(ascii: "\n")).map { Array($0) }
        let envelopes = limit.map { Array(lines.prefix($0)) } ?? lines
        guard let text = try? String(contentsOf: clockFile(dir), encoding: .utf8),
            let clock = Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw ChainError(.badConfig, "\(clockFile(dir).path) holds no clock") }
        let home = try NodeHome(NetworkLayout(root: networkDir(dir)).nodeHome(0))
        var config = home.config
        config.syncCommits = syncCommits
        config.maxBlockTxs = blockSize
        // Room for a block and a batch; the capacity alone limits admission (not the commit rate).
        config.mempoolCapacity = max(config.mempoolCapacity, blockSize + batch)
        config.mempoolQueueSeconds = 0
        let database = dir.appendingPathComponent("pipeline-run.sqlite").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let node = try ChainNode(
            genesis: home.genesis, config: config, databasePath: database, nodeKey: home.key,
            contracts: contracts(config, home.genesis), logger: Logger(label: "pipeline-bench"))
        let cpuStart = threadCPUSeconds()
        let wallStart = ContinuousClock.now
        let (committed, blocks) = try pipelineMeasuredRegion(node, envelopes, clock: clock, batch: batch, blockSize: blockSize)
        let outcome = Outcome(
            committed: committed, blocks: blocks, threadCPUSeconds: threadCPUSeconds() - cpuStart,
            seconds: (ContinuousClock.now - wallStart).seconds)
        guard committed == envelopes.count else {
            throw ChainError(.internalError, "\(committed) of \(envelopes.count) transactions committed")
        }
        return outcome
    }

    /// The measured work, and nothing else (never inlined: one symbol to find in a profile).
    @inline(never)
    static func pipelineMeasuredRegion(
        _ node: ChainNode, _ envelopes: [[UInt8]], clock: Int64, batch: Int, blockSize: Int
    ) throws -> (committed: Int, blocks: Int) {
        var committed = 0
        var blocks = 0
        var waiting = 0
        var start = 0
        while start < envelopes.count {
            let end = min(envelopes.count, start + batch)
            try admit(node, envelopes[start..<end], clock: clock)
            waiting += end - start
            start = end
            while waiting >= blockSize || (start == envelopes.count && waiting > 0) {
                let before = node.mempool.count
                guard try node.produceBlock(nowMillis: clock) != nil else { break }
                let count = before - node.mempool.count
                committed += count
                waiting -= count
                blocks += 1
            }
        }
        return (committed, blocks)
    }

    /// Reads each envelope as `POST /v1/txs` does and admits them as one batch; fails on the first
    /// refusal.
    static func admit(_ node: ChainNode, _ envelopes: ArraySlice<[UInt8]>, clock: Int64) throws {
        var txs: [SignedTransaction] = []
        txs.reserveCapacity(envelopes.count)
        for bytes in envelopes { txs.append(try TransactionSubmission.parse(bytes, hasher: node.hasher)) }
        for outcome in node.submit(txs, nowMillis: clock) {
            if case .failure(let error) = outcome { throw error }
        }
    }

    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
