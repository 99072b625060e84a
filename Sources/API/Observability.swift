import ChainCore
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import Logging
import NIOCore
import Node
import Prometheus
import Storage
import Synchronization

/// The request id of each API request: a sane incoming `X-Request-Id` (1–128 characters of
/// letters, digits and `-_.:`) is kept, so that a proxy's or client's id follows the request;
/// anything else is replaced by a fresh one. Returned in the response's `X-Request-Id` and
/// attached (`request_id`) to every log line the request's logger writes.
public enum RequestID {
    /// `X-Request-Id`.
    public static let header = HTTPField.Name("X-Request-Id")!

    /// `incoming` when it is a sane id, else nil.
    public static func accepted(_ incoming: String?) -> String? {
        guard let s = incoming, (1...128).contains(s.utf8.count),
            s.utf8.allSatisfy({ c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":")
            })
        else { return nil }
        return s
    }

    /// A fresh id: 32 hex digits, unique in the process and not guessable from earlier ones.
    ///
    /// Each id is a keyed hash (Swift's `Hasher`, SipHash, seeded per process, with a 128-bit key
    /// drawn once) of a counter: distinct counters give distinct ids, and an outsider cannot read
    /// from two ids how many requests came between them. Drawing 16 random bytes per request
    /// instead cost 16 `getrandom` system calls and 16 `String(format:)`: 5.5 % of a validator's
    /// CPU under overload, where most requests are cheap refusals.
    public static func generate() -> String {
        let n = sequence.add(1, ordering: .relaxed).newValue
        var high = Hasher()
        high.combine(key.0)
        high.combine(key.1)
        high.combine(n)
        high.combine(0 as UInt8)
        var low = Hasher()
        low.combine(key.1)
        low.combine(key.0)
        low.combine(n)
        low.combine(1 as UInt8)
        let words = [UInt64(UInt(bitPattern: high.finalize())), UInt64(UInt(bitPattern: low.finalize()))]
        return Hex.encode(words.flatMap { w in (0..<8).map { UInt8(truncatingIfNeeded: w >> (56 - 8 * UInt64($0))) } })
    }

    private static let sequence = Atomic<UInt64>(0)
    private static let key: (UInt64, UInt64) = {
        var g = SystemRandomNumberGenerator()
        return (g.next(), g.next())
    }()
}

/// The class of a request's route for metrics: the first path segment under `/v1` among the
/// API's known groups, `metrics`, `console` (the web console's files) or `other` — a fixed set,
/// so that no client can create new series.
enum RouteClass {
    static let known: Set<String> = [
        "status", "genesis", "txs", "blocks", "state", "sync", "stream", "verify", "complaints", "crab", "crabs",
        "epcis", "governance", "wasm", "console", "evidence", "codes", "coupons", "orgs", "events",
    ]

    static func of(path: String) -> String {
        if path == "/metrics" { return "metrics" }
        guard path.hasPrefix("/v1/") else { return path.hasPrefix("/v1") ? "other" : "console_files" }
        let first = path.dropFirst(4).prefix(while: { $0 != "/" && $0 != "?" })
        return known.contains(String(first)) ? String(first) : "other"
    }
}

/// What `GET /metrics` exports beyond the node's own metrics: the registry they are kept in and
/// the expiry of the certificates the node uses.
public struct MetricsExport: Sendable {
    /// The Prometheus registry `NodeMetrics` records into.
    public let registry: PrometheusCollectorRegistry
    /// Certificates by name (`node`, `api_tls`) and their end of validity.
    public let certificates: [String: Date]

    /// An export of `registry`.
    public init(registry: PrometheusCollectorRegistry, certificates: [String: Date] = [:]) {
        self.registry = registry
        self.certificates = certificates
    }
}

/// The outermost middleware: gives each request its id, answers `GET /metrics`, counts every
/// answer by route class and status (429s also as rate-limit refusals), and logs each request
/// (`debug` when it succeeded, `info` for a client error, `error` for a server error).
/// How many request lines refusals may write: a token bucket of `burst` lines refilled at
/// `perSecond`. Lines past it are counted, not written; the next line written carries the count
/// (`suppressed`). Every refusal was logged (503s at `error`): under overload, or from anyone
/// sending garbage, that was one line per request, written without bound (a 2× overload wrote
/// 14,500 lines in 8 s on four nodes) and paid for by the node's CPU.
final class LogBudget: Sendable {
    let burst: Double
    let perSecond: Double
    private let state: Mutex<(tokens: Double, at: ContinuousClock.Instant, suppressed: Int)>

    init(burst: Int = 50, perSecond: Double = 5) {
        self.burst = Double(burst)
        self.perSecond = perSecond
        state = Mutex((Double(burst), ContinuousClock.now, 0))
    }

    /// Nil when this line is not to be written; else how many were suppressed since the last one.
    func take(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { s in
            let elapsed = now - s.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            s.tokens = min(burst, s.tokens + max(0, seconds) * perSecond)
            s.at = now
            guard s.tokens >= 1 else {
                s.suppressed += 1
                return nil
            }
            s.tokens -= 1
            defer { s.suppressed = 0 }
            return s.suppressed
        }
    }
}

struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = NodeRequestContext
    let api: APIContext
    /// Refusals' lines (every status from 400 but 500, a fault of the node, which is always written).
    let refusals = LogBudget()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let id = RequestID.accepted(request.headers[RequestID.header]) ?? RequestID.generate()
        var context = context
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(id)
        let start = ContinuousClock.now
        let path = request.uri.path
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // ErrorMiddleware answers every error; this is only a safety net.
            response = APIError.response(ChainError(.internalError, "\(error)"))
        }
        response.headers[RequestID.header] = id
        let status = Int(response.status.code)
        api.node.metrics.httpRequest(routeClass: RouteClass.of(path: path), status: status)
        let elapsed = ContinuousClock.now - start
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        // A fault of the node is an error; refusals (4xx, and 502-504: overload, an unreachable
        // upstream) are expected answers, at `info` and within the budget; the rest at `debug`.
        let level: Logger.Level = status == 500 ? .error : status >= 400 ? .info : .debug
        var suppressed = 0
        if status >= 400, status != 500, context.logger.logLevel <= level {
            guard let count = refusals.take() else { return response }
            suppressed = count
        }
        context.logger.log(
            level: level, "request",
            metadata: {
                var m: Logger.Metadata = [
                    "method": .string(request.method.rawValue), "path": .string(String(path.prefix(200))),
                    "status": .stringConvertible(status), "duration_ms": .string(String(format: "%.1f", ms)),
                    "client": .string(context.clientAddress),
                ]
                if suppressed > 0 { m["suppressed"] = .stringConvertible(suppressed) }
                return m
            }())
        return response
    }

}

/// `GET /metrics` (outside `/v1`): the node's metrics in Prometheus' text format.
struct MetricsRoute: Sendable {
    let api: APIContext

    /// The Prometheus text format, to the addresses of `metricsAllowFrom` or a holder of
    /// `metricsToken`; `forbidden` to anyone else, `not_found` when the node exports no metrics.
    func metrics(_ request: Request, context: NodeRequestContext) throws -> Response {
        guard let export = api.metricsExport else { throw ChainError(.notFound, "this node exports no metrics") }
        let config = api.node.config
        guard
            Self.allowed(
                peer: context.remoteAddress, authorization: request.headers[.authorization], allowFrom: config.metricsAllowFrom,
                token: config.metricsToken)
        else {
            throw ChainError(.forbidden, "metrics are served to the addresses of metricsAllowFrom or with the metrics token")
        }
        do {
            try refreshGauges(export)
        } catch {
            throw ChainError(.storageUnavailable, "cannot read the chain's tip: \(error)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.cacheControl] = "no-store"
        let bytes = export.registry.emitToBuffer()
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// True when the connection's peer is in `allowFrom` (`loopback`: any loopback address), or
    /// `authorization` is `Bearer <token>` (compared in constant time).
    static func allowed(peer: SocketAddress?, authorization: String?, allowFrom: [String], token: String?) -> Bool {
        if let token, !token.isEmpty, let auth = authorization, auth.hasPrefix("Bearer ") {
            let given = Array(auth.dropFirst(7).utf8)
            let expected = Array(token.utf8)
            if given.count == expected.count, zip(given, expected).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 { return true }
        }
        guard let ip = peer?.ipAddress else { return false }
        for entry in allowFrom {
            if entry == "loopback", isLoopback(ip) { return true }
            if entry == ip { return true }
        }
        return false
    }

    static func isLoopback(_ ip: String) -> Bool {
        ip == "::1" || ip.hasPrefix("127.") || ip.hasPrefix("::ffff:127.")
    }

    /// The gauges read from the node's state at each scrape.
    func refreshGauges(_ export: MetricsExport) throws {
        let node = api.node
        let m = node.metrics
        let tip = try node.store.tip()
        let height = tip?.height ?? 0
        m.gauge("xiangchain_height", Double(height))
        m.gauge("xiangchain_last_block_timestamp_seconds", Double(tip?.timestamp ?? 0) / 1000)
        m.gauge("xiangchain_mempool_transactions", Double(node.mempool.count))
        m.gauge("xiangchain_mempool_capacity", Double(node.mempool.capacity))
        m.gauge("xiangchain_mempool_admission_limit", Double(node.mempool.admissionLimit))
        m.gauge("xiangchain_validators", Double(node.chainConfig.validators.count))
        m.gauge("xiangchain_observer", node.isObserver ? 1 : 0)
        if let c = api.consensus?() {
            m.gauge("xiangchain_consensus_round", Double(c.round))
            m.gauge("xiangchain_consensus_committed_round", Double(c.committedRound))
            m.gauge("xiangchain_consensus_last_progress_timestamp_seconds", Double(c.lastProgressAt) / 1000)
            m.gauge("xiangchain_consensus_stalled", c.stalled == nil ? 0 : 1)
            m.gauge("xiangchain_consensus_timeouts_sent", Double(c.timeoutsSent))
            m.gauge("xiangchain_peers_connected", Double(c.peersConnected.count))
        } else {
            m.gauge("xiangchain_peers_connected", 0)
        }
        if let s = api.sync?.status {
            m.gauge("xiangchain_sync_lag_blocks", Double(s.sourceHeight > height ? s.sourceHeight - height : 0))
            m.gauge("xiangchain_sync_last_fetch_timestamp_seconds", Double(s.lastFetchAt) / 1000)
        }
        let now = Date()
        for (name, notAfter) in export.certificates {
            m.gauge(
                "xiangchain_certificate_expiry_days", notAfter.timeIntervalSince(now) / 86400, [("certificate", name)])
        }
    }
}
