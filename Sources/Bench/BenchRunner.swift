import ChainClient
import ChainCore
import Foundation
import Identity
import Launcher
import Node
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What `xiangchain bench` loads.
public enum BenchWorkload: String, Sendable, CaseIterable {
    /// 存证 puts.
    case evidence
    /// The crab mix: scans, coupon issuance, harvest tagging, inspections, ring commissioning.
    case crab
    /// Half evidence, half crab.
    case mixed
    /// Half evidence, half consumer scans of tagged rings: the growth workload of issue 15 (a
    /// small setup, so a run of a million transactions spends its time on the measured load).
    case scans
    /// The 三资 WebAssembly contract: spending requests, register entries, booked expenses.
    case wasm
}

/// The settings of one benchmark run.
public struct BenchSettings: Sendable {
    /// Validators of the fresh network (ignored with `targets`).
    public var nodes: Int
    /// API URLs of running nodes to load instead of starting a network.
    public var targets: [URL]?
    /// With `targets`: the identity directory that signs the load.
    public var identity: URL?
    /// Concurrent HTTP connections.
    public var clients: Int
    /// Offered transactions per second; nil: as fast as the network takes them.
    public var perSecond: Int?
    /// Measured window, seconds.
    public var duration: Int
    /// The workload.
    public var workload: BenchWorkload
    /// Transactions per request (more than 1 uses `POST /v1/txs/batch`).
    public var batch: Int
    /// Submit over the nodes' WebSocket submission stream (`GET /v1/txs/stream`), one message
    /// per transaction, instead of one HTTP request each (http:// nodes, `batch` 1).
    public var stream = false
    /// With `stream`: messages a client sends ahead of their answers (1: each answer read before
    /// the next message). A client that keeps several in flight, as a gateway streaming scans
    /// would, lets each read and write carry several messages.
    public var window = 1
    /// Transactions to pre-sign (default: rate × duration, or 4,000/s × duration at max).
    public var count: Int?
    /// Directory of the fresh network (default: a temporary one, removed afterwards).
    public var dir: URL?
    /// API ports P+k, p2p P+1000+k for the fresh network (default: free ports).
    public var basePort: Int?
    /// The crypto suite of the fresh network.
    public var suite: CryptoSuite
    /// A fixed mempool capacity for each node of the fresh network, instead of the default
    /// capacity and the limit by commit rate (`mempoolQueueSeconds`); nil: the nodes' defaults.
    public var mempool: Int?
    /// Node settings written into each fresh node's config.json (`--set key=json`).
    public var nodeSettings: [String: JSONValue] = [:]
    /// A pre-signed transaction older than this is signed again as it is sent (the nodes refuse
    /// timestamps further than their tolerance, 10 minutes by default, from their clock).
    public var restampAfter: Duration = .seconds(240)

    /// Creates settings.
    public init(
        nodes: Int, targets: [URL]?, identity: URL?, clients: Int, perSecond: Int?, duration: Int, workload: BenchWorkload,
        batch: Int, count: Int?, dir: URL?, basePort: Int?, suite: CryptoSuite = .ed25519, mempool: Int? = nil
    ) {
        self.suite = suite
        self.mempool = mempool
        self.nodes = nodes
        self.targets = targets
        self.identity = identity
        self.clients = clients
        self.perSecond = perSecond
        self.duration = duration
        self.workload = workload
        self.batch = batch
        self.count = count
        self.dir = dir
        self.basePort = basePort
    }

    var json: JSONValue {
        .object([
            "nodes": .int(Int64(targets?.count ?? nodes)), "clients": .int(Int64(clients)),
            "rate": .string(perSecond.map(String.init) ?? "max"), "durationSeconds": .int(Int64(duration)),
            "workload": .string(workload.rawValue), "batch": .int(Int64(batch)), "suite": .string(suite.rawValue),
            "stream": .bool(stream), "window": .int(Int64(window)),
            "target": targets.map { .string($0.map(\.absoluteString).joined(separator: ",")) } ?? .null,
            "mempool": mempool.map { .int(Int64($0)) } ?? .null, "nodeSettings": .object(nodeSettings),
        ])
    }
}

/// Measures committed tx/s and commit latency of a real network (`docs/performance.md`).
public enum BenchRunner {
    /// Runs the benchmark: starts a fresh network (or targets running nodes), pre-signs outside
    /// the measured window, submits from `clients` connections, and reports.
    public static func run(_ s: BenchSettings) async throws -> Report {
        let machine = Machine.current()
        say("machine: \(machine.cores) cores, \(machine.cpuModel)")
        return try await withNetwork(s) { urls, signer, network in
            try await measure(s, urls: urls, signer: signer, network: network, machine: machine)
        }
    }

    /// Runs `body` against a fresh network (stopped and, unless `s.dir` is given, removed
    /// afterwards) or against `s.targets`, with the identity that signs the load.
    static func withNetwork<T: Sendable>(
        _ s: BenchSettings, _ body: ([URL], SigningIdentity, LocalNetwork?) async throws -> T
    ) async throws -> T {
        var network: LocalNetwork?
        var root: URL?
        let urls: [URL]
        let signer: SigningIdentity
        if let targets = s.targets {
            urls = targets
            guard let identity = s.identity else { throw ChainError(.badConfig, "loading running nodes needs an identity") }
            signer = try SigningIdentity(directory: identity)
        } else {
            let dir =
                s.dir ?? FileManager.default.temporaryDirectory.appendingPathComponent("xc-bench-\(UUID().uuidString)")
            let layout = try prepareNetwork(at: dir, nodes: s.nodes, basePort: s.basePort, suite: s.suite)
            if s.mempool != nil || !s.nodeSettings.isEmpty {
                for k in 0..<s.nodes {
                    let file = layout.nodeHome(k).appendingPathComponent("config.json")
                    if let capacity = s.mempool {
                        var config = try NodeConfig.load(from: file)
                        config.mempoolCapacity = capacity
                        config.mempoolQueueSeconds = 0
                        try config.write(to: file)
                    }
                    guard !s.nodeSettings.isEmpty else { continue }
                    // Any node setting, as the node reads it from config.json (`--set key=json`).
                    guard case .object(var o) = try JSONParser().parse(Array(try Data(contentsOf: file))) else {
                        throw ChainError(.badConfig, "\(file.path) is not a JSON object")
                    }
                    for (key, value) in s.nodeSettings { o[key] = value }
                    try Data(JSONValue.object(o).canonicalBytes).write(to: file)
                    _ = try NodeConfig.load(from: file)
                }
            }
            let local = try LocalNetwork.start(layout)
            network = local
            root = dir
            do {
                try await local.waitUntilReady(meshed: true, timeout: .seconds(60))
            } catch {
                _ = await local.stop()
                throw ChainError(
                    .benchFailed, "the network did not come up; logs in \(dir.path)/nodes/*/node.log\n\(error)")
            }
            urls = local.urls
            signer = try SigningIdentity(directory: layout.identityDir("bench-load"))
            say("started \(s.nodes) validators in \(dir.path)")
        }
        do {
            let result = try await body(urls, signer, network)
            if let network { _ = await network.stop() }
            if s.dir == nil, let root { try? FileManager.default.removeItem(at: root) }
            return result
        } catch {
            if let network { _ = await network.stop() }
            if s.dir == nil, let root { try? FileManager.default.removeItem(at: root) }
            throw error
        }
    }

    /// The network directory of a fresh benchmark network: at least four orgs (so the crab
    /// workload has a farm, a merchant and a lab of their own, and the wasm workload a village and
    /// a township) and the load's identity.
    static func prepareNetwork(at root: URL, nodes: Int, basePort: Int?, suite: CryptoSuite = .ed25519) throws -> NetworkLayout {
        let layout = NetworkLayout(root: root)
        if !layout.exists {
            let orgs = (0..<max(nodes, 4)).map { "org\($0)" }
            // The default policy, plus the wasm workload's 三资 village (org1) and its township (org2).
            var roles = NetworkLayout.defaultRoles(for: orgs)
            roles[WasmWorkload.village, default: []].append(.village)
            roles[WasmWorkload.township, default: []].append(.township)
            _ = try layout.create(
                orgs: orgs, suite: suite, chainId: "xiangchain-bench", basePort: basePort ?? LocalPorts.freeBlock(count: nodes),
                validators: nodes, roles: roles)
        }
        if !FileManager.default.fileExists(atPath: layout.identityDir("bench-load").path) {
            try layout.issueIdentity(org: "org0", role: .farm, name: "bench-load")
        }
        return layout
    }

    static func measure(
        _ s: BenchSettings, urls: [URL], signer: SigningIdentity, network: LocalNetwork?, machine: Machine
    ) async throws -> Report {
        let first = try ChainClient(urls[0])
        let status = try await first.status()
        let chainId = status["chainId"]?.stringValue ?? ""
        let startHeight = status["height"]?.int64Value ?? 0

        // Pre-sign, outside the measured window.
        let total = s.count ?? ((s.perSecond ?? 8_000) * s.duration)
        let run = UUID().uuidString
        let calls: [BenchCall]
        switch s.workload {
        case .evidence:
            calls = (0..<total).map { BenchCall.evidence(signer, $0, run: run) }
        case .wasm:
            guard let network else { throw ChainError(.badConfig, "the wasm workload needs a fresh network (no --target)") }
            calls = try await WasmWorkload.prepare(layout: network.layout, client: first, chain: chainId, count: total, run: run)
        case .crab, .mixed, .scans:
            guard let network else {
                throw ChainError(.badConfig, "the crab, mixed and scans workloads need a fresh network (no --target)")
            }
            let crabCount = s.workload == .crab ? total : total / 2
            let crab = try await CrabWorkload.prepare(
                layout: network.layout, client: first, chain: chainId, count: crabCount, scansOnly: s.workload == .scans)
            if s.workload == .crab {
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
        let requests = try await Presigned.make(calls, batch: s.batch, chain: chainId, restampAfter: s.restampAfter)
        let signSeconds = (ContinuousClock.now - signStart).seconds
        say(
            "pre-signed \(total) transactions in \(String(format: "%.1f", signSeconds)) s (\(Int(Double(total) / max(signSeconds, 0.001))) signatures/s on \(machine.cores) cores)"
        )

        // One connection per client (and one for the watcher): the pool is sized for them.
        let cpuBefore = network?.cpuSeconds() ?? [:]
        let watcher = CommitWatcher(ids: requests.txids, fromHeight: startHeight + 1)
        let duration = s.duration
        // Plain HTTP nodes get the clients of blocking connections on threads of their own
        // (`PlainHTTPConnection`: a fraction of AsyncHTTPClient's CPU, which the nodes under test
        // share); HTTPS targets get AsyncHTTPClient.
        let plain = urls.allSatisfy { $0.scheme == "http" }
        if s.stream, !plain { throw ChainError(.badConfig, "--stream needs http:// nodes") }
        let (outcome, t0) = try await ConnectionPool.with(connections: (plain ? 0 : s.clients) + 4) { pool in
            let watcherClient = try ChainClient(urls[0], pool: pool)
            let clients = plain ? [] : try (0..<s.clients).map { try ChainClient(urls[$0 % urls.count], pool: pool) }
            // One per other node: where the watcher asks after a transaction its node does not know.
            let lookers = try urls.dropFirst().map { try ChainClient($0, pool: pool) }
            let t0 = ContinuousClock.now
            let all = try await withThrowingTaskGroup(of: [Submission].self) { group in
                group.addTask {
                    try await watcher.run(
                        client: watcherClient, others: lookers, start: t0, until: t0 + .seconds(duration) + .seconds(60))
                    return []
                }
                let plan = ClientPlan(
                    requests: requests, watcher: watcher, counter: Counter(), start: t0, duration: .seconds(duration),
                    perSecond: s.perSecond, batch: s.batch)
                if plain {
                    for k in 0..<s.clients {
                        let url = urls[k % urls.count]
                        let stream = s.stream
                        let window = s.window
                        group.addTask {
                            try await Self.onThread(name: "bench-client-\(k)") {
                                if stream {
                                    return try Self.client(
                                        try PlainWebSocket(url: url, path: "/v1/txs/stream"), plan: plan, window: window)
                                }
                                return try Self.client(try PlainHTTPConnection(url: url), plan: plan)
                            }
                        }
                    }
                }
                for client in clients {
                    group.addTask { try await Self.client(client, plan: plan) }
                }
                var all: [Submission] = []
                var finishedClients = 0
                do {
                    while let part = try await group.next() {
                        all += part
                        finishedClients += 1
                        if finishedClients == s.clients {
                            // Submission is over: let the watcher drain what was acknowledged, then stop it.
                            watcher.expect(all.filter(\.accepted).map(\.index))
                        }
                    }
                } catch {
                    // A client (or the watcher) failed: the clients on threads of their own cannot be
                    // cancelled, so they get no further request and the run ends with the error now,
                    // not after the window.
                    plan.counter.stop()
                    throw error
                }
                return all
            }
            return (all, t0)
        }
        let cpuAfter = network?.cpuSeconds() ?? [:]
        let report = try await Report.make(
            submissions: outcome, watcher: watcher, start: t0, duration: s.duration,
            signRate: Double(total) / max(signSeconds, 0.001), presigned: total, urls: urls, startHeight: startHeight,
            machine: machine, network: network, cpuBefore: cpuBefore, cpuAfter: cpuAfter, settings: s.json)
        guard s.workload == .wasm, case .object(var json) = report.json else { return report }
        // Fuel is deterministic: the same calls through the runtime in this process, after the window.
        let fuel = try WasmWorkload.fuelPerTransaction()
        json["fuelPerTransaction"] = fuel
        let methods = (fuel.objectValue ?? [:]).keys.filter { fuel[$0]?.objectValue != nil }.sorted()
        let line =
            "fuel per tx       mean \(fuel["mean"]?.int64Value ?? 0) ("
            + methods.map { "\($0) \(fuel[$0]?["mean"]?.int64Value ?? 0)" }.joined(separator: ", ") + ")"
        return Report(json: .object(json), table: report.table + "\n" + line)
    }

    /// One client over AsyncHTTPClient (`https://` targets): takes the next request, waits for
    /// its slot when the rate is fixed, submits, and records what happened. At `max`, a 503 is
    /// retried after a short pause; at a fixed rate it counts as refused (the open loop does not
    /// slow down).
    static func client(_ client: ChainClient, plan: ClientPlan) async throws -> [Submission] {
        var out: [Submission] = []
        while let request = try plan.next() {
            if let due = request.due, due > ContinuousClock.now { try await Task.sleep(until: due) }
            while true {
                let sent = ContinuousClock.now
                let reply = try await client.post(plan.path, body: request.body)
                guard let done = plan.outcome(reply.status, reply.body, request, sent: sent, answered: .now) else {
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                out += done
                break
            }
        }
        return out
    }

    /// The same over one blocking keep-alive connection (`http://` nodes), on a thread of its own.
    static func client(_ connection: PlainHTTPConnection, plan: ClientPlan) throws -> [Submission] {
        var out: [Submission] = []
        while let request = try plan.next() {
            if let due = request.due { sleep(until: due) }
            while true {
                let sent = ContinuousClock.now
                let reply = try connection.post(plan.path, body: request.body)
                guard let done = plan.outcome(reply.status, reply.body, request, sent: sent, answered: .now) else {
                    sleep(until: .now + .milliseconds(50))
                    continue
                }
                out += done
                break
            }
        }
        return out
    }

    /// The same over a node's submission stream (`--stream`): one message per transaction, at
    /// most `window` of them sent ahead of their answers (the node answers in order; 1: each answer
    /// read before the next message, as over HTTP). A refusal for lack of room (`mempool_full`) is
    /// what a 503 is over HTTP: at max, that transaction goes again after a pause of 50 ms (before
    /// any new one), while the answers to those already sent are read. At a fixed rate a message is
    /// sent at its slot when the window has room, else as soon as it has (late: reported). A stream
    /// left quiet for 10 s (the node closes one it waits on for its idle timeout, 30 s by default)
    /// is opened again before the next message, so a message is never written to a stream the node
    /// is closing and never sent twice.
    static func client(_ socket: PlainWebSocket, plan: ClientPlan, window: Int = 1) throws -> [Submission] {
        // At least one message in flight, whatever was asked.
        let window = max(1, window)
        var out: [Submission] = []
        // Sent and not yet answered, oldest first: answers come in this order.
        var inFlight: [(request: ClientPlan.Request, sent: ContinuousClock.Instant)] = []
        // Refused for lack of room, to send again (in order) once `pause` is over.
        var again: [ClientPlan.Request] = []
        var pause: ContinuousClock.Instant?
        // Taken from the plan before its slot, while answers were awaited.
        var held: ClientPlan.Request?
        var planDone = false
        var lastAnswer = ContinuousClock.now
        do {
            while true {
                // Send while the window has room and a message is ready to go.
                sending: while inFlight.count < window {
                    if let until = pause, until > .now {
                        guard inFlight.isEmpty else { break sending }
                        sleep(until: until)
                    }
                    pause = nil
                    let request: ClientPlan.Request
                    if !again.isEmpty {
                        request = again.removeFirst()
                    } else if let h = held {
                        request = h
                        held = nil
                    } else if !planDone, let next = try plan.next() {
                        request = next
                    } else {
                        planDone = true
                        break sending
                    }
                    if let due = request.due, due > .now {
                        guard inFlight.isEmpty else {
                            held = request
                            break sending
                        }
                        sleep(until: due)
                    }
                    if inFlight.isEmpty {
                        if socket.connection.isConnected, ContinuousClock.now - lastAnswer > .seconds(10) { socket.close() }
                        if !socket.connection.isConnected { try socket.open() }
                    }
                    let sent = ContinuousClock.now
                    try socket.send(text: request.body)
                    inFlight.append((request, sent))
                }
                guard !inFlight.isEmpty else {
                    if planDone, again.isEmpty, held == nil { return out }
                    continue
                }
                // A message whose slot comes before the next answer goes at its slot.
                if let due = held?.due, inFlight.count < window, !socket.connection.readable(before: due) {
                    continue
                }
                let answer = try socket.receive()
                lastAnswer = .now
                let (request, sent) = inFlight.removeFirst()
                let json = try? JSONParser().parse(answer)
                // Answers come in order: one naming another transaction is a broken stream, not a count.
                if let txid = json?["txid"]?.stringValue, txid != request.txids.first {
                    throw ChainError(
                        .benchFailed, "the stream answered for \(txid) where \(request.txids.first ?? "") was sent")
                }
                let code = json?["error"]?["code"]?.stringValue
                let status =
                    json?["status"]?.stringValue == "accepted" ? 202 : code == "mempool_full" ? 503 : code == nil ? 502 : 400
                guard let done = plan.outcome(status, json: json, request, sent: sent, answered: .now) else {
                    again.append(request)
                    pause = .now + .milliseconds(50)
                    continue
                }
                out += done
            }
        } catch {
            socket.close()
            throw error
        }
    }

    /// Blocks the calling thread (never a thread of the cooperative pool) until `deadline`.
    static func sleep(until deadline: ContinuousClock.Instant) {
        while true {
            let left = deadline - .now
            guard left > .zero else { return }
            var t = timespec(tv_sec: Int(left.components.seconds), tv_nsec: Int(left.components.attoseconds / 1_000_000_000))
            _ = nanosleep(&t, nil)
        }
    }

    /// Runs `body` on a new thread and waits for it without holding a thread of the pool.
    static func onThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            thread.name = name
            thread.start()
        }
    }
}

/// What a client sends and when, shared by its two ways of sending (`BenchRunner.client`).
struct ClientPlan: Sendable {
    let requests: Presigned
    let watcher: CommitWatcher
    let counter: Counter
    let start: ContinuousClock.Instant
    let duration: Duration
    let perSecond: Int?
    let batch: Int
    var path: String { batch == 1 ? "/v1/txs" : "/v1/txs/batch" }

    /// A request to send: its transactions, body and slot (nil at max).
    struct Request {
        let ids: Range<Int>
        /// The ids of its transactions (hex), as the node answers them.
        let txids: [String]
        let body: [UInt8]
        let due: ContinuousClock.Instant?
    }

    /// The next request, or nil when this client is done (no request left, or the window is over).
    func next() throws -> Request? {
        let i = counter.take()
        guard i < requests.bodies.count else { return nil }
        var due: ContinuousClock.Instant?
        if let perSecond {
            let slot = start + .nanoseconds(Int64(Double(i * batch) / Double(perSecond) * 1e9))
            if slot >= start + duration { return nil }
            due = slot
        } else if ContinuousClock.now >= start + duration {
            return nil
        }
        let ids = requests.ids(ofRequest: i)
        // Signed again if it was signed too long ago: its new ids are the watcher's to find.
        let (body, fresh) = try requests.body(ofRequest: i)
        for (k, id) in zip(ids, fresh ?? []) { watcher.alias(id, index: k) }
        return Request(ids: ids, txids: fresh ?? Array(requests.txids[ids]), body: body, due: due)
    }

    /// What an answer means for `request`'s transactions; nil when it is to be sent again (a 503
    /// at `max` within the window). How late the open loop sent it is recorded (0 at max): when
    /// the clients cannot keep up with the offered rate, the report says so instead of measuring
    /// a lower load.
    func outcome(
        _ status: Int, _ body: [UInt8], _ request: Request, sent: ContinuousClock.Instant, answered: ContinuousClock.Instant
    ) -> [Submission]? {
        // A body to send again is not parsed.
        if sendAgain(status, answered: answered) { return nil }
        return outcome(status, json: try? JSONParser().parse(body), request, sent: sent, answered: answered)
    }

    /// The same for an answer already parsed (`json`, nil when it was not JSON): the stream client
    /// reads each answer's JSON for its status, and the answer is not parsed twice.
    func outcome(
        _ status: Int, json: JSONValue?, _ request: Request, sent: ContinuousClock.Instant, answered: ContinuousClock.Instant
    ) -> [Submission]? {
        if sendAgain(status, answered: answered) { return nil }
        let timing = Submission.Timing(
            submittedAtNs: (sent - start).nanoseconds, answeredAfterNs: (answered - sent).nanoseconds,
            sentLateNs: request.due.map { max(0, (sent - $0).nanoseconds) } ?? 0)
        return Submission.from(status: status, json: json, ids: request.ids, timing: timing, batch: batch > 1)
    }

    /// Whether an answer of `status` means the request goes again: a 503 at `max` within the window.
    private func sendAgain(_ status: Int, answered: ContinuousClock.Instant) -> Bool {
        status == 503 && perSecond == nil && answered < start + duration
    }
}

/// A shared counter handing out request indices.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    /// The next index; past every request (`Int.max`) once stopped.
    func take() -> Int {
        stopped.load(ordering: .relaxed) ? Int.max : value.add(1, ordering: .relaxed).oldValue
    }

    /// Hands out no more indices (a client failed: the others end at their next request).
    func stop() { stopped.store(true, ordering: .relaxed) }
}

/// What happened to one submitted transaction.
struct Submission: Sendable {
    /// When its request was sent and answered.
    struct Timing: Sendable {
        /// Sent, from the start of the window.
        let submittedAtNs: Int64
        /// From sending the request to its answer (202, 503, …).
        let answeredAfterNs: Int64
        /// How far behind the offered rate's schedule the request was sent (0 at max).
        let sentLateNs: Int64
    }

    let index: Int
    let timing: Timing
    let accepted: Bool
    /// The refusal code when not accepted (`mempool_full` counts as refused, the rest as failed).
    let code: String?

    var submittedAtNs: Int64 { timing.submittedAtNs }

    static func from(status: Int, json: JSONValue?, ids: Range<Int>, timing: Timing, batch: Bool) -> [Submission] {
        if batch, status == 200, let results = json?["results"]?.arrayValue, results.count == ids.count {
            return zip(ids, results).map { i, r in
                Submission(
                    index: i, timing: timing, accepted: r["status"]?.stringValue == "accepted",
                    code: r["error"]?["code"]?.stringValue)
            }
        }
        let accepted = status == 202 || status == 200
        let code = accepted ? nil : (json?["error"]?["code"]?.stringValue ?? "http_\(status)")
        return ids.map { Submission(index: $0, timing: timing, accepted: accepted, code: code) }
    }
}

/// Transactions signed before the measured window, as ready-to-send request bodies.
struct Presigned: Sendable {
    /// Request bodies (one transaction each, or a batch).
    let bodies: [[UInt8]]
    /// Transaction ids (hex), in order.
    let txids: [String]
    let batch: Int
    /// What was signed, to sign again (`restamped`).
    let calls: [BenchCall]
    let chain: String
    /// When the bodies were signed (their transactions' timestamp).
    let signedAt: ContinuousClock.Instant
    /// Age past which a body is signed again as it is sent.
    let restampAfter: Duration

    func ids(ofRequest i: Int) -> Range<Int> { (i * batch)..<min((i + 1) * batch, txids.count) }

    /// The body to send as request `i` now: the pre-signed one, or, once the bodies are older
    /// than `restampAfter` (a long run outlasts the nodes' timestamp tolerance), the request
    /// signed again with its new ids (`restamped`).
    func body(ofRequest i: Int) throws -> (body: [UInt8], restampedIDs: [String]?) {
        guard ContinuousClock.now - signedAt > restampAfter else { return (bodies[i], nil) }
        let fresh = try restamped(request: i)
        return (fresh.body, fresh.txids)
    }

    /// Request `i` signed again with the current time (and a fresh nonce, so a new id): a node
    /// refuses a transaction whose timestamp is further from its clock than its tolerance
    /// (`stale_timestamp`), and a run of a million transactions lasts longer than that.
    func restamped(request i: Int) throws -> (body: [UInt8], txids: [String]) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var envelopes: [JSONValue] = []
        var fresh: [String] = []
        for k in ids(ofRequest: i) {
            let call = calls[k]
            let tx = try call.signer.transaction(
                chain: chain, contract: call.contract, method: call.method, args: call.args, nonce: "r\(now)-\(k)", timestamp: now
            )
            envelopes.append(Self.envelope(tx))
            fresh.append(tx.txid)
        }
        let body = batch == 1 ? envelopes[0].canonicalBytes : JSONValue.object(["txs": .array(envelopes)]).canonicalBytes
        return (body, fresh)
    }

    /// Signs `calls` (on every core) and encodes them as request bodies of `batch` transactions.
    static func make(_ calls: [BenchCall], batch: Int, chain: String, restampAfter: Duration) async throws -> Presigned {
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let chunk = (calls.count + cores - 1) / cores
        let signedAt = ContinuousClock.now
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
        return Presigned(
            bodies: bodies, txids: parts.map(\.0), batch: batch, calls: calls, chain: chain, signedAt: signedAt,
            restampAfter: restampAfter)
    }

    /// The `POST /v1/txs` envelope of a transaction.
    static func envelope(_ tx: SignedTransaction) -> JSONValue {
        let e = TransactionSubmission(tx)
        return .object(["body": .string(e.body), "signature": .string(e.signature), "signer": .string(e.signer)])
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

/// Polls one node's committed blocks and notes when each of our transactions was first seen
/// committed; once submission is over, asks after the acknowledged ones it has not seen whenever
/// no block brings any of them, and counts those the nodes report dropped for age (`tx_expired`)
/// as expired instead of waiting for them.
final class CommitWatcher: Sendable {
    let index: [String: Int]
    /// Transaction ids by index, as first signed.
    let txids: [String]
    let fromHeight: Int64
    let seen: Mutex<[Int: Int64]> = Mutex([:])
    /// The acknowledged transactions (indices), once submission is over.
    let expected: Mutex<Set<Int>?> = Mutex(nil)
    /// Acknowledged transactions a node reported expired (`tx_expired`), by index.
    let expired: Mutex<Set<Int>> = Mutex([])
    /// Ids of transactions signed again during the run (`Presigned.restamped`), by index.
    let aliases: Mutex<(byID: [String: Int], byIndex: [Int: String])> = Mutex(([:], [:]))

    /// Notes that transaction `index` was signed again as `id`.
    func alias(_ id: String, index i: Int) {
        aliases.withLock {
            $0.byID[id] = i
            $0.byIndex[i] = id
        }
    }

    /// The index of our transaction `id`, if it is one.
    func lookup(_ id: String) -> Int? {
        if let i = index[id] { return i }
        return aliases.withLock { $0.byID[id] }
    }

    /// The id transaction `i` was last sent under.
    func txid(_ i: Int) -> String { aliases.withLock { $0.byIndex[i] } ?? txids[i] }

    /// Transactions signed again during the run.
    var restampedCount: Int { aliases.withLock { $0.byIndex.count } }

    init(ids: [String], fromHeight: Int64) {
        var index: [String: Int] = [:]
        index.reserveCapacity(ids.count)
        for (i, id) in ids.enumerated() { index[id] = i }
        self.index = index
        self.txids = ids
        self.fromHeight = fromHeight
    }

    /// Tells the watcher which acknowledged transactions to wait for before it stops.
    func expect(_ acknowledged: [Int]) { expected.withLock { $0 = Set(acknowledged) } }

    var commitTimes: [Int: Int64] { seen.withLock { $0 } }

    /// Acknowledged transactions reported expired and not seen committed.
    var expiredIndices: Set<Int> {
        let committed = commitTimes
        return expired.withLock { $0 }.filter { committed[$0] == nil }
    }

    /// The acknowledged transactions neither seen committed nor reported expired (empty until
    /// submission is over).
    var unresolved: Set<Int> {
        guard let expected = expected.withLock({ $0 }) else { return [] }
        let committed = commitTimes
        let gone = expired.withLock { $0 }
        return expected.filter { committed[$0] == nil && !gone.contains($0) }
    }

    func run(
        client: ChainClient, others: [ChainClient] = [], start: ContinuousClock.Instant, until: ContinuousClock.Instant
    ) async throws {
        try await poll(start: start, until: until) { path in
            try await client.get(path)
        } lookUp: { txid in
            // The watched node first; a node that never held the transaction (404) is not the last word.
            for c in [client] + others {
                if let found = await Self.fate(txid, get: { try await c.get($0) }) { return found }
            }
            return nil
        }
    }

    /// What a node says of a transaction.
    enum Fate {
        /// It holds it, pending or committed.
        case known
        /// It dropped it for age (410 `tx_expired`).
        case expired
    }

    /// What `GET /v1/txs/{txid}` says through `get`; nil when the node does not know the
    /// transaction or does not answer.
    static func fate(_ txid: String, get: (String) async throws -> JSONValue) async -> Fate? {
        do {
            _ = try await get("/v1/txs/\(txid)")
            return .known
        } catch let e as ChainError where e.code == .txExpired {
            return .expired
        } catch {
            return nil
        }
    }

    /// Polls blocks from `fromHeight` until every acknowledged transaction is seen committed or
    /// reported expired (or `until`). Whenever a poll brings none of ours, at most once a second,
    /// the unresolved ones are looked up (`lookUp`), so expired ones end the wait at once.
    func poll(
        start: ContinuousClock.Instant, until: ContinuousClock.Instant, get: (String) async throws -> JSONValue,
        lookUp: (String) async throws -> Fate? = { _ in nil }
    ) async throws {
        var height = fromHeight
        var lastLookUp = ContinuousClock.now
        while ContinuousClock.now < until {
            let page = try await get("/v1/blocks?from=\(height)&limit=100")
            let blocks = page["blocks"]?.arrayValue ?? []
            let now = (ContinuousClock.now - start).nanoseconds
            var ours = 0
            for b in blocks {
                let ids = (b["txids"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { lookup($0) } }
                ours += ids.count
                seen.withLock { s in for i in ids where s[i] == nil { s[i] = now } }
            }
            height += Int64(blocks.count)
            if expected.withLock({ $0 }) != nil {
                var open = unresolved
                if open.isEmpty { return }
                if ours == 0, ContinuousClock.now - lastLookUp >= .seconds(1) {
                    lastLookUp = ContinuousClock.now
                    for i in open.sorted() {
                        guard try await lookUp(txid(i)) == .expired else { continue }
                        expired.withLock { _ = $0.insert(i) }
                        open.remove(i)
                    }
                    if open.isEmpty { return }
                }
            }
            if blocks.count < 100 { try await Task.sleep(for: .milliseconds(25)) }
        }
    }
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
