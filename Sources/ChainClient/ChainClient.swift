import AsyncHTTPClient
import ChainCore
import Foundation
import Identity
import NIOCore
import NIOHTTP1
import NIOSSL

/// One answer of a node's API: status, headers and body.
public struct ChainReply: Sendable {
    /// HTTP status code.
    public let status: Int
    /// Response headers.
    public let headers: HTTPHeaders
    /// The body bytes.
    public let body: [UInt8]

    /// True for a 2xx status.
    public var succeeded: Bool { (200..<300).contains(status) }

    /// The body as strict JSON, or nil when it is not JSON.
    public var json: JSONValue? { try? JSONParser().parse(body) }

    /// The node's error (`{"error": {code, message}}`) for a non-2xx answer; nil for success.
    public var error: ChainError? {
        guard !succeeded else { return nil }
        let kind = ChainClient.kind(forStatus: status)
        if let e = json?["error"], let code = e["code"]?.stringValue {
            return ChainError(ErrorCode(named: code, unknownKind: kind), e["message"]?.stringValue ?? "")
        }
        return ChainError(
            kind == .unavailable ? .nodeUnavailable : ErrorCode(named: "http_\(status)", unknownKind: kind),
            "the node answered HTTP \(status)")
    }
}

/// What became of a submitted transaction.
public struct SubmitOutcome: Sendable, Equatable {
    /// Transaction id (hex).
    public var txid: String
    /// `accepted` (admitted, not waited for), `pending` (not committed within the wait), `committed` or `failed`.
    public var status: String
    /// Block height, once committed.
    public var height: UInt64?
    /// Position in the block, once committed.
    public var index: Int?
    /// The error of a failed execution.
    public var error: ChainError?

    /// Reads `{txid, status, height?, index?, error?}` as `POST /v1/txs` and `GET /v1/txs/{id}` answer it.
    public init(json: JSONValue, txid: String) {
        self.txid = json["txid"]?.stringValue ?? txid
        status = json["status"]?.stringValue ?? "accepted"
        height = json["height"]?.int64Value.flatMap { UInt64(exactly: $0) }
        index = json["index"]?.int64Value.map { Int($0) }
        error = json["error"].flatMap { e in
            e["code"]?.stringValue.map { ChainError(ErrorCode(named: $0), e["message"]?.stringValue ?? "") }
        }
    }

    /// True once the transaction is in a block (committed or failed).
    public var isFinal: Bool { status == "committed" || status == "failed" }
}

/// The one client of a node's HTTP API, used by the command-line tool, the demo, the benchmark,
/// observers (block sync and forwarding) and the tests: keep-alive connections (AsyncHTTPClient's
/// pool), deadlines on every request, HTTP and HTTPS, and the API's error shape as `ChainError`.
public struct ChainClient: Sendable {
    /// The API base URL, e.g. `http://127.0.0.1:8080` (no trailing slash).
    public let baseURL: URL
    let http: HTTPClient
    /// Longest wait for one request.
    public let timeout: Duration
    /// Largest body read from an answer.
    public let maxResponseBytes: Int

    /// A client of the node at `base` (an http or https URL); `bad_config` for anything else.
    public init(
        _ base: String, http: HTTPClient = .chainDefault, timeout: Duration = .seconds(30), maxResponseBytes: Int = 64 << 20
    ) throws(ChainError) {
        var text = base
        while text.hasSuffix("/") { text.removeLast() }
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw ChainError(.badConfig, "\"\(base)\" is not an http(s) URL")
        }
        baseURL = url
        self.http = http
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// A client of the node at `url`.
    public init(_ url: URL, http: HTTPClient = .chainDefault, timeout: Duration = .seconds(30)) throws(ChainError) {
        try self.init(url.absoluteString, http: http, timeout: timeout)
    }

    /// A client of the node at `url` whose requests go through `pool`.
    public init(_ url: URL, pool: ConnectionPool, timeout: Duration = .seconds(30)) throws(ChainError) {
        try self.init(url.absoluteString, http: pool.http, timeout: timeout)
    }

    /// The kind of error an HTTP status stands for, for codes this client does not know.
    static func kind(forStatus status: Int) -> ErrorKind {
        switch status {
        case 400: .invalid
        case 401: .unauthenticated
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 409: .conflict
        case 410: .gone
        case 413: .tooLarge
        case 422: .rejected
        case 423: .locked
        case 429: .rateLimited
        case 502, 504: .peer
        case 503: .unavailable
        default: status >= 500 ? .fault : .invalid
        }
    }

    // MARK: raw requests

    /// Sends one request; `target` is the path with its query (`/v1/blocks?from=3`). Throws
    /// `node_unavailable` when the node cannot be reached or does not answer within the timeout.
    public func send(
        _ method: HTTPMethod, _ target: String, body: [UInt8]? = nil, headers: [(String, String)] = [],
        timeout: Duration? = nil
    ) async throws -> ChainReply {
        var request = HTTPClientRequest(url: baseURL.absoluteString + target)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                request.headers.add(name: "Content-Type", value: "application/json")
            }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let wait = timeout ?? self.timeout
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(wait.nanosecondsClamped))
            let buffer = try await response.body.collect(upTo: maxResponseBytes)
            return ChainReply(status: Int(response.status.code), headers: response.headers, body: Array(buffer: buffer))
        } catch let e as ChainError {
            throw e
        } catch {
            throw ChainError(.nodeUnavailable, "\(method) \(baseURL.absoluteString)\(target): \(error)")
        }
    }

    /// POST `body` to `target`; the answer as it came.
    public func post(_ target: String, body: [UInt8], headers: [(String, String)] = []) async throws -> ChainReply {
        try await send(.POST, target, body: body, headers: headers)
    }

    /// GET `target`; the answer as it came.
    public func fetch(_ target: String, headers: [(String, String)] = []) async throws -> ChainReply {
        try await send(.GET, target, headers: headers)
    }

    /// GET `target`, expecting 2xx and JSON; throws the node's error otherwise.
    public func get(_ target: String, headers: [(String, String)] = []) async throws -> JSONValue {
        let reply = try await send(.GET, target, headers: headers)
        if let e = reply.error { throw e }
        guard let json = reply.json else { throw ChainError(.malformedJSON, "GET \(target) answered no JSON") }
        return json
    }

    // MARK: the API

    /// `GET /v1/status`.
    public func status() async throws -> JSONValue { try await get("/v1/status") }

    /// The chain id the node serves.
    public func chainId() async throws -> String {
        guard let id = try await status()["chainId"]?.stringValue else {
            throw ChainError(.nodeUnavailable, "\(baseURL.absoluteString)/v1/status names no chain id")
        }
        return id
    }

    /// True when `GET /v1/status` answers 200 within `timeout`.
    public func answers(timeout: Duration = .seconds(2)) async -> Bool {
        (try? await send(.GET, "/v1/status", timeout: timeout))?.status == 200
    }

    /// Waits until the node answers (up to `timeout`).
    public func waitUntilAnswering(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await answers() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChainError(.nodeTimeout, "\(baseURL.absoluteString) did not answer within \(timeout)")
    }

    /// Submits a signed transaction (`POST /v1/txs`); with `waitForCommit`, the node answers once
    /// it is committed (or `pending` after its wait). Throws the node's refusal as `ChainError`.
    public func submit(_ tx: SignedTransaction, waitForCommit: Bool = false) async throws -> SubmitOutcome {
        try await submit(
            envelope: Array(JSONEncoder().encode(TransactionSubmission(tx))), txid: tx.txid, waitForCommit: waitForCommit)
    }

    /// Submits an envelope as given (an observer forwards its client's bytes unchanged).
    public func submit(envelope: [UInt8], txid: String = "", waitForCommit: Bool = false) async throws -> SubmitOutcome {
        let reply = try await send(.POST, waitForCommit ? "/v1/txs?wait=commit" : "/v1/txs", body: envelope)
        if let e = reply.error { throw e }
        return SubmitOutcome(json: reply.json ?? .null, txid: txid)
    }

    /// Submits and waits until the transaction is in a block, polling after the node's own wait.
    public func submitAndWait(_ tx: SignedTransaction, timeout: Duration = .seconds(120)) async throws -> SubmitOutcome {
        let first = try await submit(tx, waitForCommit: true)
        return first.isFinal ? first : try await waitForCommit(tx.txid, timeout: timeout)
    }

    /// Submits up to 1,000 transactions in one `POST /v1/txs/batch`; one outcome each, in order.
    public func submitBatch(_ txs: [SignedTransaction]) async throws -> [SubmitOutcome] {
        let list = try txs.map { tx in try JSONParser().parse(Array(JSONEncoder().encode(TransactionSubmission(tx)))) }
        let reply = try await send(.POST, "/v1/txs/batch", body: JSONValue.object(["txs": .array(list)]).canonicalBytes)
        if let e = reply.error { throw e }
        let results = reply.json?["results"]?.arrayValue ?? []
        guard results.count == txs.count else {
            throw ChainError(.malformed, "the batch answer holds \(results.count) results for \(txs.count) transactions")
        }
        return zip(txs, results).map { tx, r in SubmitOutcome(json: r, txid: tx.txid) }
    }

    /// `GET /v1/txs/{txid}`: the committed (or pending) transaction, nil when the node knows none;
    /// throws `tx_expired` (410) when the node dropped it for age (it will not be committed).
    public func transaction(_ txid: String) async throws -> JSONValue? {
        let reply = try await send(.GET, "/v1/txs/\(txid)")
        if reply.status == 404 { return nil }
        if let e = reply.error { throw e }
        return reply.json
    }

    /// Polls `GET /v1/txs/{txid}` until the transaction is in a block; throws `tx_expired` as soon
    /// as the node reports it dropped for age, `node_timeout` after `timeout`.
    public func waitForCommit(_ txid: String, timeout: Duration) async throws -> SubmitOutcome {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let json = try await transaction(txid) {
                let outcome = SubmitOutcome(json: json, txid: txid)
                if outcome.isFinal { return outcome }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ChainError(.nodeTimeout, "transaction \(txid) is not committed after \(timeout)")
    }

    /// `GET /v1/snapshots/{height}/chunks/{index}`: one chunk of a state snapshot, as bytes.
    public func snapshotChunk(height: UInt64, index: Int) async throws -> [UInt8] {
        let reply = try await send(.GET, "/v1/snapshots/\(height)/chunks/\(index)")
        if let e = reply.error { throw e }
        return reply.body
    }

    /// `GET /v1/sync/blocks?from=&limit=`: the encoded `BlockSyncBatch`.
    public func syncBlocks(from: UInt64, limit: Int) async throws -> [UInt8] {
        let reply = try await send(.GET, "/v1/sync/blocks?from=\(from)&limit=\(limit)")
        if let e = reply.error { throw e }
        return reply.body
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to Int64.
    var nanosecondsClamped: Int64 {
        let (s, atto) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : ns + atto / 1_000_000_000
    }
}

extension HTTPClient {
    /// How long a `ChainClient` keeps an idle keep-alive connection for reuse: well below a node's
    /// own idle timeout (`NodeConfig.httpIdleTimeoutSeconds`, 30 s by default). A client that kept
    /// it as long as the node (AsyncHTTPClient's default is 60 s) could send a request on a
    /// connection at the moment the node closes it for idleness, and get `remoteConnectionClosed`
    /// for a request the node never saw (seen in CI: a process test's submission after a ~30 s pause).
    public static var chainIdleTimeout: Duration { .seconds(10) }

    /// The HTTP client a `ChainClient` uses unless given one: it trusts the system's CA
    /// certificates for HTTPS, and when `XIANGCHAIN_CA_FILE` names a PEM file its certificates too
    /// (a consortium's own CA for its nodes' APIs); idle connections are dropped after
    /// `chainIdleTimeout`. Never shut down (one per process).
    public static let chainDefault: HTTPClient = {
        guard let path = ProcessInfo.processInfo.environment["XIANGCHAIN_CA_FILE"], !path.isEmpty else {
            return HTTPClient(eventLoopGroupProvider: .singleton, configuration: chainConfiguration())
        }
        return trusting(caFile: path)
    }()

    /// The configuration of `chainDefault` and `trusting(caFile:)`: AsyncHTTPClient's defaults but
    /// for the idle timeout of pooled connections (`chainIdleTimeout`).
    public static func chainConfiguration(connectionsPerHost: Int = 8) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .nanoseconds(chainIdleTimeout.nanosecondsClamped),
            concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        return configuration
    }

    /// A new client that trusts the certificates of the PEM file `caFile` besides the system's
    /// (shut it down when done).
    public static func trusting(caFile: String) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.file(caFile)]
        var configuration = chainConfiguration()
        configuration.tlsConfiguration = tls
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// HTTP connections of their own (the shared pool keeps 8 per host): for a load generator that
/// wants one keep-alive connection per concurrent client.
public struct ConnectionPool: Sendable {
    let http: HTTPClient

    /// Runs `body` with a pool of up to `connections` keep-alive connections per host, and shuts
    /// the pool down afterwards.
    public static func with<T: Sendable>(connections: Int, _ body: (ConnectionPool) async throws -> T) async throws -> T {
        let http = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: HTTPClient.chainConfiguration(connectionsPerHost: connections))
        do {
            let result = try await body(ConnectionPool(http: http))
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
