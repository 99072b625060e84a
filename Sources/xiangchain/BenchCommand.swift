import ArgumentParser
import ChainCore
import Foundation
import Identity
import NIOHTTP1
import Node
import Synchronization

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

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        /// 存证 puts.
        case evidence
        /// The crab mix: scans, coupon issuance, harvest tagging, inspections, ring commissioning.
        case crab
        /// Half evidence, half crab.
        case mixed
    }

    @Option(help: "Validators of the fresh network (ignored with --target).") var nodes: Int = 4
    @Option(help: "Comma-separated API URLs of running nodes to load instead of starting a network.") var target: String?
    @Option(help: "With --target: identity directory (key.pem, cert.pem) that signs the load.") var identity: String?
    @Option(help: "Concurrent HTTP connections.") var clients: Int = 16
    @Option(help: "Offered load in transactions per second, or max.") var rate: String = "max"
    @Option(help: "Measured window, seconds.") var duration: Int = 60
    @Option(help: "Workload: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")).") var workload: Workload = .evidence
    @Option(help: "Transactions per HTTP request (more than 1 uses POST /v1/txs/batch).") var batch: Int = 1
    @Option(help: "Transactions to pre-sign (default: rate × duration, or 4,000/s × duration at max).") var count: Int?
    @Option(help: "Write the result as JSON to this file.") var json: String?
    @Option(help: "Directory of the fresh network (default: a temporary one, removed afterwards).") var dir: String?
    @Option(help: "API ports P+k, p2p P+1000+k for the fresh network (default: free ports).") var basePort: Int?

    func validate() throws {
        guard (1...16).contains(nodes) else { throw ValidationError("--nodes must be 1–16") }
        guard (1...512).contains(clients) else { throw ValidationError("--clients must be 1–512") }
        guard (1...3600).contains(duration) else { throw ValidationError("--duration must be 1–3600 s") }
        guard (1...1000).contains(batch) else { throw ValidationError("--batch must be 1–1000") }
        guard rate == "max" || (Int(rate).map { $0 > 0 } ?? false) else { throw ValidationError("--rate must be max or N > 0") }
        if target != nil, identity == nil { throw ValidationError("--target needs --identity") }
    }

    func run() async throws {
        let machine = Machine.current()
        say("machine: \(machine.cores) cores, \(machine.cpuModel)")
        var network: LocalNetwork?
        let urls: [URL]
        let signer: SigningIdentity
        if let target {
            urls = try target.split(separator: ",").map {
                guard let u = URL(string: String($0)), u.host != nil else { throw ValidationError("bad --target URL \($0)") }
                return u
            }
            signer = try SigningIdentity(directory: URL(fileURLWithPath: identity ?? ""))
        } else {
            let local = try await LocalNetwork.start(nodes: nodes, dir: dir, basePort: basePort)
            network = local
            urls = local.urls
            signer = local.signer
            say("started \(nodes) validators in \(local.root.path)")
        }
        defer { network?.stop() }
        let first = try await Endpoint(urls[0])
        let chainId = try await first.status()["chainId"]?.stringValue ?? ""
        let startHeight = try await first.status()["height"]?.int64Value ?? 0

        // Pre-sign, outside the measured window.
        let perSecond = Int(rate)
        let total = count ?? (perSecond.map { $0 * duration } ?? 4_000 * duration)
        let run = UUID().uuidString
        let calls: [BenchCall]
        switch workload {
        case .evidence:
            calls = (0..<total).map { BenchCall.evidence(signer, $0, run: run) }
        case .crab, .mixed:
            guard let network else { throw ValidationError("the crab and mixed workloads need a fresh network (no --target)") }
            let crabCount = workload == .crab ? total : total / 2
            let crab = try await CrabWorkload.prepare(
                layout: NetworkLayout(root: network.root), endpoint: first, chain: chainId, count: crabCount)
            if workload == .crab {
                calls = crab
            } else {
                // Alternate, so both kinds run through the whole window.
                let evidence = (0..<(total - crabCount)).map { BenchCall.evidence(signer, $0, run: run) }
                var mixed: [BenchCall] = []
                mixed.reserveCapacity(total)
                for i in 0..<max(crab.count, evidence.count) {
                    if i < evidence.count { mixed.append(evidence[i]) }
                    if i < crab.count { mixed.append(crab[i]) }
                }
                calls = mixed
            }
        }
        let signStart = ContinuousClock.now
        let requests = try await Presigned.make(calls, batch: batch, chain: chainId)
        let signSeconds = (ContinuousClock.now - signStart).seconds
        say(
            "pre-signed \(total) transactions in \(String(format: "%.1f", signSeconds)) s (\(Int(Double(total) / max(signSeconds, 0.001))) signatures/s on \(machine.cores) cores)"
        )

        let cpuBefore = network?.cpuSeconds() ?? [:]
        let watcher = CommitWatcher(ids: requests.txids, fromHeight: startHeight + 1)
        let t0 = ContinuousClock.now
        let outcome = try await withThrowingTaskGroup(of: [Submission].self) { group in
            group.addTask {
                try await watcher.run(endpoint: first, start: t0, until: t0 + .seconds(duration) + .seconds(60))
                return []
            }
            let next = Counter()
            for c in 0..<clients {
                let url = urls[c % urls.count]
                group.addTask {
                    try await Self.client(
                        url: url, requests: requests, next: next, start: t0, duration: .seconds(duration), perSecond: perSecond,
                        batch: batch)
                }
            }
            var all: [Submission] = []
            var finishedClients = 0
            while let part = try await group.next() {
                all += part
                finishedClients += 1
                if finishedClients == clients {
                    // Submission is over: let the watcher drain what was acknowledged, then stop it.
                    let acknowledged = all.filter(\.accepted).count
                    watcher.expect(acknowledged)
                }
            }
            return all
        }
        let cpuAfter = network?.cpuSeconds() ?? [:]
        let report = try await Report.make(
            submissions: outcome, watcher: watcher, start: t0, duration: duration,
            signRate: Double(total) / max(signSeconds, 0.001),
            presigned: total, urls: urls, startHeight: startHeight, machine: machine, network: network, cpuBefore: cpuBefore,
            cpuAfter: cpuAfter, settings: settingsJSON)
        say(report.table)
        if let json {
            try Data(report.json.canonicalBytes).write(to: URL(fileURLWithPath: json))
            say("wrote \(json)")
        }
    }

    var settingsJSON: JSONValue {
        .object([
            "nodes": .int(Int64(target == nil ? nodes : (target ?? "").split(separator: ",").count)),
            "clients": .int(Int64(clients)), "rate": .string(rate), "durationSeconds": .int(Int64(duration)),
            "workload": .string(workload.rawValue), "batch": .int(Int64(batch)), "target": target.map { .string($0) } ?? .null,
        ])
    }

    /// One client: takes the next request, waits for its slot when the rate is fixed, submits,
    /// and records what happened. At `max`, a 503 is retried after a short pause; at a fixed rate
    /// it counts as refused (the open loop does not slow down).
    static func client(
        url: URL, requests: Presigned, next: Counter, start: ContinuousClock.Instant, duration: Duration, perSecond: Int?,
        batch: Int
    ) async throws -> [Submission] {
        var out: [Submission] = []
        let end = start + duration
        let path = batch == 1 ? "/v1/txs" : "/v1/txs/batch"
        try await LoadConnection.with(host: url.host ?? "127.0.0.1", port: url.port ?? 80) { request in
            while true {
                let i = next.take()
                guard i < requests.bodies.count else { return }
                if let perSecond {
                    let due = start + .nanoseconds(Int64(Double(i * batch) / Double(perSecond) * 1e9))
                    if due >= end { return }
                    if due > ContinuousClock.now { try await Task.sleep(until: due) }
                } else if ContinuousClock.now >= end {
                    return
                }
                let ids = requests.ids(ofRequest: i)
                while true {
                    let sent = ContinuousClock.now
                    let reply = try await request(.POST, path, requests.bodies[i])
                    let at = (sent - start).nanoseconds
                    if reply.status == 503, perSecond == nil, ContinuousClock.now < end {
                        try await Task.sleep(for: .milliseconds(50))
                        continue
                    }
                    out += Submission.from(reply: reply, ids: ids, submittedAtNs: at, batch: batch > 1)
                    break
                }
            }
        }
        return out
    }
}

/// A shared counter handing out request indices.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next index.
    func take() -> Int { value.add(1, ordering: .relaxed).oldValue }
}

/// What happened to one submitted transaction.
struct Submission: Sendable {
    let index: Int
    let submittedAtNs: Int64
    let accepted: Bool
    /// The refusal code when not accepted (`mempool_full` counts as refused, the rest as failed).
    let code: String?

    static func from(reply: LoadConnection.Reply, ids: Range<Int>, submittedAtNs: Int64, batch: Bool) -> [Submission] {
        let json = try? JSONParser().parse(reply.body)
        if batch, reply.status == 200, let results = json?["results"]?.arrayValue, results.count == ids.count {
            return zip(ids, results).map { i, r in
                Submission(
                    index: i, submittedAtNs: submittedAtNs, accepted: r["status"]?.stringValue == "accepted",
                    code: r["error"]?["code"]?.stringValue)
            }
        }
        let accepted = reply.status == 202 || reply.status == 200
        let code = accepted ? nil : (json?["error"]?["code"]?.stringValue ?? "http_\(reply.status)")
        return ids.map { Submission(index: $0, submittedAtNs: submittedAtNs, accepted: accepted, code: code) }
    }
}

/// Transactions signed before the measured window, as ready-to-send request bodies.
struct Presigned: Sendable {
    /// Request bodies (one transaction each, or a batch).
    let bodies: [[UInt8]]
    /// Transaction ids (hex), in order.
    let txids: [String]
    let batch: Int

    func ids(ofRequest i: Int) -> Range<Int> { (i * batch)..<min((i + 1) * batch, txids.count) }

    /// Signs `calls` (on every core) and encodes them as request bodies of `batch` transactions.
    static func make(_ calls: [BenchCall], batch: Int, chain: String) async throws -> Presigned {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = (calls.count + cores - 1) / cores
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let parts = try await withThrowingTaskGroup(of: (Int, [(String, JSONValue)]).self) { group in
            for c in 0..<cores {
                let range = (c * chunk)..<min(calls.count, (c + 1) * chunk)
                group.addTask {
                    var out: [(String, JSONValue)] = []
                    out.reserveCapacity(range.count)
                    for i in range {
                        let call = calls[i]
                        let tx = try call.signer.transaction(
                            chain: chain, contract: call.contract, method: call.method, args: call.args, nonce: "b\(now)-\(i)",
                            timestamp: now)
                        out.append((tx.txid, Self.envelope(tx)))
                    }
                    return (c, out)
                }
            }
            var parts: [(Int, [(String, JSONValue)])] = []
            for try await p in group { parts.append(p) }
            return parts.sorted { $0.0 < $1.0 }.flatMap(\.1)
        }
        var bodies: [[UInt8]] = []
        var start = 0
        while start < parts.count {
            let slice = parts[start..<min(parts.count, start + batch)]
            bodies.append(
                batch == 1 ? slice.first!.1.canonicalBytes : JSONValue.object(["txs": .array(slice.map(\.1))]).canonicalBytes)
            start += batch
        }
        return Presigned(bodies: bodies, txids: parts.map(\.0), batch: batch)
    }

    /// The `POST /v1/txs` envelope of a transaction.
    static func envelope(_ tx: SignedTransaction) -> JSONValue {
        .object([
            "body": .string(Data(tx.body).base64EncodedString()), "signature": .string(Data(tx.signature).base64EncodedString()),
            "signer": .string(KeyPEM.certificatePEM(fromDER: tx.signerCertificate)),
        ])
    }
}

/// One transaction to sign: who, which contract method, which args.
struct BenchCall: Sendable {
    let signer: SigningIdentity
    let contract: String
    let method: String
    let args: JSONValue

    /// An evidence put of a unique document hash.
    static func evidence(_ signer: SigningIdentity, _ i: Int, run: String) -> BenchCall {
        BenchCall(
            signer: signer, contract: "evidence", method: "put",
            args: .object([
                "hash": .string(Hash256.sha256(Array("bench-\(run)-\(i)".utf8)).hex), "kind": .string("bench"),
                "meta": .object(["n": .int(Int64(i))]),
            ]))
    }
}

/// Polls one node's committed blocks and notes when each of our transactions was first seen committed.
final class CommitWatcher: Sendable {
    let index: [String: Int]
    /// Transaction ids by index.
    let txids: [String]
    let fromHeight: Int64
    let seen: Mutex<[Int: Int64]> = Mutex([:])
    let expected = Atomic<Int>(-1)

    init(ids: [String], fromHeight: Int64) {
        var index: [String: Int] = [:]
        index.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { index[id] = i }
        self.index = index
        self.txids = ids
        self.fromHeight = fromHeight
    }

    /// Tells the watcher how many acknowledged transactions to wait for before it stops.
    func expect(_ n: Int) { expected.store(n, ordering: .relaxed) }

    var commitTimes: [Int: Int64] { seen.withLock { $0 } }

    func run(endpoint: Endpoint, start: ContinuousClock.Instant, until: ContinuousClock.Instant) async throws {
        // One keep-alive connection for the whole run (it polls every 25 ms).
        try await LoadConnection.with(host: endpoint.url.host ?? "127.0.0.1", port: endpoint.url.port ?? 80) { request in
            try await poll(start: start, until: until) { path in
                let reply = try await request(.GET, path, nil)
                guard reply.status == 200 else { throw ChainError(.benchFailed, "GET \(path) answered \(reply.status)") }
                return try JSONParser().parse(reply.body)
            }
        }
    }

    func poll(start: ContinuousClock.Instant, until: ContinuousClock.Instant, get: (String) async throws -> JSONValue)
        async throws
    {
        var height = fromHeight
        while ContinuousClock.now < until {
            let page = try await get("/v1/blocks?from=\(height)&limit=100")
            let blocks = page["blocks"]?.arrayValue ?? []
            let now = (ContinuousClock.now - start).nanoseconds
            for b in blocks {
                let ids = (b["txids"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { index[$0] } }
                seen.withLock { s in for i in ids where s[i] == nil { s[i] = now } }
            }
            height += Int64(blocks.count)
            let target = expected.load(ordering: .relaxed)
            if target >= 0, seen.withLock({ $0.count }) >= target { return }
            if blocks.count < 100 { try await Task.sleep(for: .milliseconds(25)) }
        }
    }
}

/// A node API reached over one keep-alive connection at a time (for status and block polling).
struct Endpoint: Sendable {
    let url: URL

    init(url: URL) { self.url = url }

    init(_ url: URL) async throws { self.url = url }

    func get(_ path: String) async throws -> JSONValue {
        let reply = try await LoadConnection.with(host: url.host ?? "127.0.0.1", port: url.port ?? 80) { request in
            try await request(.GET, path, nil)
        }
        guard reply.status == 200 else { throw ChainError(.benchFailed, "GET \(path) answered \(reply.status)") }
        return try JSONParser().parse(reply.body)
    }

    func status() async throws -> JSONValue { try await get("/v1/status") }
}

/// The machine the benchmark runs on.
struct Machine: Sendable {
    let cores: Int
    let cpuModel: String
    let memoryGiB: Double

    static func current() -> Machine {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            info.split(separator: "\n").first { $0.hasPrefix("model name") }.map {
                String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces)
            } ?? "unknown"
        return Machine(
            cores: ProcessInfo.processInfo.activeProcessorCount, cpuModel: model,
            memoryGiB: Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30))
    }

    var json: JSONValue {
        .object([
            "cores": .int(Int64(cores)), "cpuModel": .string(cpuModel),
            "memoryGiB": .number(String(format: "%.1f", memoryGiB)),
            "os": .string(ProcessInfo.processInfo.operatingSystemVersionString),
        ])
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
