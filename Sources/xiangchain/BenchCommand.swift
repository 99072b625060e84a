import ArgumentParser
import Bench
import ChainCore
import Foundation
import Identity
import Launcher
import Node

#if canImport(Glibc)
    import Glibc
#endif

/// `xiangchain bench`: measures committed throughput and commit latency of a real network.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Measure committed tx/s and commit latency: starts a fresh devnet (or targets running nodes), pre-signs, submits over HTTP, reports.",
        discussion: """
            Throughput is counted from committed blocks (not acknowledgements), latency from submission to the \
            moment a polling watcher sees the block. Per node: peak RSS and CPU seconds per 1,000 committed \
            transactions (local networks only). See docs/performance.md.
            """)

    @Option(help: "Validators of the fresh network (ignored with --target).") var nodes: Int = 4
    @Option(help: "Comma-separated API URLs of running nodes to load instead of starting a network.") var target: String?
    @Option(help: "With --target: identity directory (key.pem, cert.pem) that signs the load.") var identity: String?
    @Option(help: "Concurrent HTTP connections.") var clients: Int = 16
    @Option(help: "Offered load in transactions per second, or max.") var rate: String = "max"
    @Option(help: "Measured window, seconds.") var duration: Int = 60
    @Option(help: "Workload: \(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", ")).") var workload: BenchWorkload =
        .evidence
    @Option(help: "Transactions per HTTP request (more than 1 uses POST /v1/txs/batch).") var batch: Int = 1
    @Flag(
        help:
            "Submit over the nodes' submission stream (WebSocket GET /v1/txs/stream, one message per transaction) instead of one HTTP request per transaction; http:// nodes only, --batch 1."
    ) var stream = false
    @Option(
        help:
            "With --stream: messages each client sends ahead of their answers (1–64; 1: each answer read before the next message)."
    ) var window: Int = 1
    @Option(help: "Transactions to pre-sign (default: rate × duration, or 8,000/s × duration at max).") var count: Int?
    @Option(help: "Write the result as JSON to this file.") var json: String?
    @Option(help: "Directory of the fresh network (default: a temporary one, removed afterwards).") var dir: String?
    @Option(help: "API ports P+k, p2p P+1000+k for the fresh network (default: free ports).") var basePort: Int?
    @Option(help: "Crypto suite of the fresh network: ed25519, p256 or sm2.") var suite: CryptoSuite = .ed25519
    @Option(
        help:
            "A fixed mempool capacity for each node of the fresh network instead of the limit by commit rate (default: the nodes' own settings)."
    ) var mempool: Int?
    @Option(help: "A node setting for each node of the fresh network, as key=JSON (e.g. sqliteMmapMiB=256); repeatable.")
    var set: [String] = []
    @Option(
        help:
            "Seconds after which a pre-signed transaction is signed again, stamped now, as it is sent (the nodes refuse timestamps more than their tolerance, 10 minutes by default, off)."
    ) var restampAfter: Int = 240
    @Option(
        help:
            "Idle latency instead: submit N transactions one after another (POST /v1/txs?wait=commit) and print p50/p99 of submit to commit answer."
    ) var idle: Int?

    func validate() throws {
        guard (1...16).contains(nodes) else { throw ValidationError("--nodes must be 1–16") }
        guard (1...512).contains(clients) else { throw ValidationError("--clients must be 1–512") }
        guard (1...3600).contains(duration) else { throw ValidationError("--duration must be 1–3600 s") }
        guard (1...1000).contains(batch) else { throw ValidationError("--batch must be 1–1000") }
        guard rate == "max" || (Int(rate).map { $0 > 0 } ?? false) else { throw ValidationError("--rate must be max or N > 0") }
        if target != nil, identity == nil { throw ValidationError("--target needs --identity") }
        if stream, batch != 1 { throw ValidationError("--stream sends one transaction per message: --batch must be 1") }
        if stream, let target, target.split(separator: ",").contains(where: { !$0.hasPrefix("http://") }) {
            throw ValidationError("--stream needs http:// targets")
        }
        guard (1...64).contains(window) else { throw ValidationError("--window must be 1–64") }
        if window > 1, !stream { throw ValidationError("--window needs --stream") }
        if let mempool, !(100...1_000_000).contains(mempool) { throw ValidationError("--mempool must be 100–1,000,000") }
        guard (0...86_400).contains(restampAfter) else { throw ValidationError("--restamp-after must be 0–86,400 s") }
        if let idle, !(1...BenchRunner.maxIdle).contains(idle) {
            throw ValidationError("--idle must be 1–\(BenchRunner.maxIdle)")
        }
    }

    func run() async throws {
        var targets: [URL]?
        if let target {
            targets = try target.split(separator: ",").map {
                guard let u = URL(string: String($0)), u.host != nil else { throw ValidationError("bad --target URL \($0)") }
                return u
            }
        }
        var settings = BenchSettings(
            nodes: nodes, targets: targets, identity: identity.map { URL(fileURLWithPath: $0) }, clients: clients,
            perSecond: Int(rate), duration: duration, workload: workload, batch: batch, count: count,
            dir: dir.map { URL(fileURLWithPath: $0) }, basePort: basePort, suite: suite, mempool: mempool)
        settings.restampAfter = .seconds(restampAfter)
        settings.stream = stream
        settings.window = window
        for item in set {
            guard let eq = item.firstIndex(of: "="),
                let value = try? JSONParser().parse(Array(item[item.index(after: eq)...].utf8))
            else { throw ValidationError("--set wants key=JSON, e.g. sqliteMmapMiB=256") }
            settings.nodeSettings[String(item[..<eq])] = value
        }
        if let idle {
            let report = try await BenchRunner.runIdle(settings, count: idle)
            say(report.table)
            if let json {
                try Data(report.json.canonicalBytes).write(to: URL(fileURLWithPath: json))
                say("wrote \(json)")
            }
            if report.notCommitted > 0 { throw ExitCode(1) }
            return
        }
        let report = try await BenchRunner.run(settings)
        say(report.table)
        if let json {
            try Data(report.json.canonicalBytes).write(to: URL(fileURLWithPath: json))
            say("wrote \(json)")
        }
    }
}

extension BenchWorkload: ExpressibleByArgument {}
