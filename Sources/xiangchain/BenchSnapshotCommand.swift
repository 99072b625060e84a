import ArgumentParser
import Bench
import ChainCore
import Foundation

/// `xiangchain bench-snapshot`: the snapshot join figures of docs/performance.md (hidden: a
/// measurement tool, not an operator's command).
struct BenchSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-snapshot",
        abstract: "Measure loading a state snapshot: prepare a synthetic certified one, install it, or join from HTTP sources.",
        discussion: """
            prepare writes <dir>/genesis.json and the offer and chunks under <dir>/serve (serve that directory \
            over HTTP, e.g. python3 -m http.server -d <dir>/serve); install times BlockStore.installSnapshot \
            from the chunk files; join times a whole SnapshotJoin from --source URLs. See docs/performance.md.
            """,
        shouldDisplay: false)

    @Argument(help: "prepare, install or join.") var step: String
    @Option(help: "Working directory.") var dir: String
    @Option(help: "prepare: state entries.") var entries: Int = 1_000_000
    @Option(help: "prepare: committed ids carried.") var committed: Int = 0
    @Option(help: "prepare: crypto suite (ed25519: SHA-256, sm2: SM3).") var suite: CryptoSuite = .ed25519
    @Option(help: "join: base URL of a source serving <dir>/serve; repeatable.") var source: [String] = []
    @Flag(help: "install: load into the open store (as before the build-aside load).") var inPlace = false
    @Flag(help: "join: keep the database and staged chunks an interrupted join left.") var resume = false
    @Flag(help: "fsync at every commit, as a node with syncCommits (the default).") var syncFull = false

    func run() async throws {
        let dir = URL(fileURLWithPath: dir)
        switch step {
        case "prepare":
            let m = try SnapshotJoinBench.prepare(dir: dir, entries: entries, committed: committed, suite: suite)
            print(
                "prepared \(m.entryCount) entries in \(m.chunkHashes.count) chunks, \(m.committedCount) committed ids in \(m.committedChunkHashes.count) chunks"
            )
        case "install":
            let (s, m) = try SnapshotJoinBench.install(dir: dir, synchronousFull: syncFull, inPlace: inPlace)
            print(String(format: "install: %.2f s, %.0f entries/s", s, Double(m.entryCount) / s))
        case "join":
            guard !source.isEmpty else { throw ValidationError("join needs --source") }
            let s = try await SnapshotJoinBench.join(dir: dir, sources: source, synchronousFull: syncFull, resume: resume)
            print(String(format: "join: %.2f s", s))
        default:
            throw ValidationError("step must be prepare, install or join")
        }
    }
}
