import ChainCore
import ChainTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Node
import Prometheus
import Synchronization
import Testing

@testable import API
@testable import NodeRuntime

/// Request ids, route classes, who may read `GET /metrics`, and the JSON log line (the process
/// tests in `clients/python/test_ops.py` scrape a real node and read its log).
@Suite struct ObservabilityTests {
    @Test func saneIncomingRequestIdsAreKeptOthersReplaced() {
        #expect(RequestID.accepted("abc-123_X.y:z") == "abc-123_X.y:z")
        #expect(RequestID.accepted(String(repeating: "a", count: 128)) != nil)
        for hostile in [
            "", String(repeating: "a", count: 129), "a b", "a\nb", "a;b", "ü", "<script>", "a\"b", "a/b", "a\u{0}b",
        ] {
            #expect(RequestID.accepted(hostile) == nil, "\(hostile.debugDescription)")
        }
        #expect(RequestID.accepted(nil) == nil)
        let a = RequestID.generate()
        let b = RequestID.generate()
        #expect(a != b && a.count == 32 && RequestID.accepted(a) == a)
        // Unique, 32 lowercase hex digits, and no digit position stuck (as a counter's high digits
        // would be): each of the 32 positions takes many values over 20,000 ids.
        let ids = (0..<20_000).map { _ in RequestID.generate() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { Hex.isLowercase($0, byteCount: 16) })
        for position in 0..<32 {
            let seen = Set(ids.prefix(200).map { Array($0.utf8)[position] })
            #expect(seen.count >= 12, "position \(position) takes \(seen.count) values")
        }
    }

    @Test func routeClassesAreAFixedSet() {
        #expect(RouteClass.of(path: "/v1/txs") == "txs")
        #expect(RouteClass.of(path: "/v1/txs/abc/proof") == "txs")
        #expect(RouteClass.of(path: "/v1/verify") == "verify")
        #expect(RouteClass.of(path: "/metrics") == "metrics")
        #expect(RouteClass.of(path: "/v1/\(UUID().uuidString)") == "other")
        #expect(RouteClass.of(path: "/v1") == "other")
        #expect(RouteClass.of(path: "/index.html") == "console_files")
        #expect(RouteClass.of(path: "/\(UUID().uuidString)") == "console_files")
    }

    @Test func metricsAreForTheAllowedAddressesOrTheToken() throws {
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 5000)
        let local6 = try SocketAddress(ipAddress: "::1", port: 5000)
        let remote = try SocketAddress(ipAddress: "203.0.113.9", port: 5000)
        let token = "0123456789abcdef-token"
        func allowed(_ peer: SocketAddress?, _ auth: String? = nil, from: [String] = ["loopback"], token: String? = nil) -> Bool {
            MetricsRoute.allowed(peer: peer, authorization: auth, allowFrom: from, token: token)
        }
        #expect(allowed(local))
        #expect(allowed(local6))
        #expect(!allowed(remote))
        #expect(!allowed(nil))
        #expect(allowed(remote, from: ["loopback", "203.0.113.9"]))
        #expect(!allowed(local, from: []))
        #expect(!allowed(remote, "Bearer \(token)"))
        #expect(allowed(remote, "Bearer \(token)", token: token))
        #expect(!allowed(remote, "Bearer \(token)x", token: token))
        #expect(!allowed(remote, "Bearer ", token: token))
        #expect(!allowed(remote, token, token: token))
        #expect(!allowed(remote, "Bearer ", token: ""))
    }

    @Test func theMetricsRouteAnswersTheTokenHolderInPrometheusText() async throws {
        let consortium = try TestConsortium()
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.metricsToken = "0123456789abcdef-token"
            let registry = PrometheusCollectorRegistry()
            let node = try consortium.node(
                in: dir, config: config, metrics: NodeMetrics(factory: PrometheusMetricsFactory(registry: registry)))
            let app = Application(router: ChainAPI(node: node, metrics: MetricsExport(registry: registry)).router())
            try await app.test(.router) { client in
                // The router test has no peer address: only the token opens the door.
                try await client.execute(uri: "/metrics", method: .get, headers: [RequestID.header: "probe-1"]) { r in
                    #expect(r.status == .forbidden)
                    #expect(r.headers[RequestID.header] == "probe-1")
                    #expect(String(buffer: r.body).contains("\"forbidden\""))
                }
                try await client.execute(
                    uri: "/metrics", method: .get, headers: [.authorization: "Bearer 0123456789abcdef-token"]
                ) { r in
                    #expect(r.status == .ok)
                    #expect(r.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                    let text = String(buffer: r.body)
                    #expect(text.contains("xiangchain_height 0"))
                    #expect(text.contains("xiangchain_mempool_capacity 10000"))
                    #expect(text.contains("xiangchain_mempool_admission_limit "))
                    #expect(text.contains("xiangchain_http_requests_total{route=\"metrics\",status=\"403\"} 1"))
                    #expect(r.headers[RequestID.header].map { $0.count == 32 } == true)
                }
            }
        }
    }

    @Test func aJSONLogLineIsOneObjectWithTheRequestId() throws {
        let time = Date(timeIntervalSince1970: 1_767_225_600.123)
        let bytes = JSONLogHandler.line(
            time: time, level: .info, label: "xiangchain", message: "request \"quoted\"\nnext",
            metadata: ["request_id": "r-1", "list": .array(["a", .stringConvertible(2)]), "nested": ["k": "v"]],
            source: "API")
        #expect(bytes.last == 0x0A)
        #expect(bytes.dropLast().allSatisfy { $0 != 0x0A })
        let object = try #require(try JSONParser(maxDepth: 8).parse(Array(bytes.dropLast())).objectValue)
        #expect(object["time"] == .string("2026-01-01T00:00:00.123Z"))
        #expect(object["level"] == .string("info"))
        #expect(object["logger"] == .string("xiangchain"))
        #expect(object["message"] == .string("request \"quoted\"\nnext"))
        #expect(
            object["metadata"]
                == .object([
                    "request_id": .string("r-1"), "list": .array([.string("a"), .string("2")]),
                    "nested": .object(["k": .string("v")]),
                ]))
        #expect(throws: ChainError.self) { try LogFormat.named("xml") }
        #expect(try LogFormat.named("json") == .json)
    }

    /// A flood of refused requests writes a bounded number of log lines: each refusal was a line
    /// (503s at `error`), so anyone could grow the node's log without bound and make it pay for it.
    @Test func aFloodOfRefusedRequestsWritesABoundedLog() async throws {
        let consortium = try TestConsortium()
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir, config: NodeConfig(nodeId: "node0"))
            let recorder = APILogRecorder()
            let app = Application(router: ChainAPI(node: node).router(), logger: recorder.logger)
            try await app.test(.router) { client in
                for _ in 0..<600 {
                    try await client.execute(uri: "/v1/txs", method: .post, body: ByteBuffer(string: "{\"body\": 1}")) { r in
                        #expect(r.status == .badRequest)
                    }
                }
                try await client.execute(uri: "/v1/status", method: .get) { r in #expect(r.status == .ok) }
            }
            let lines = recorder.lines.withLock { $0 }.filter { $0.contains(" request ") }
            let refused = lines.filter { $0.contains("\"status\": 400") }
            // The burst (50) and what the refill adds while the test runs (5 a second).
            #expect(refused.count >= 50 && refused.count < 100, "\(refused.count) lines")
            #expect(refused.allSatisfy { $0.hasPrefix("info ") })
            // The answered status request is a debug line, outside the budget.
            #expect(lines.contains { $0.hasPrefix("debug ") && $0.contains("\"status\": 200") })
        }
    }

    @Test func theLogBudgetRefillsAndCountsWhatItSuppressed() {
        let budget = LogBudget(burst: 3, perSecond: 2)
        let t0 = ContinuousClock.now
        #expect((0..<3).map { _ in budget.take(now: t0) } == [0, 0, 0])
        #expect(budget.take(now: t0) == nil)
        #expect(budget.take(now: t0 + .milliseconds(100)) == nil)
        // Half a second later one line is due, carrying the two it replaced.
        #expect(budget.take(now: t0 + .milliseconds(600)) == 2)
        #expect(budget.take(now: t0 + .milliseconds(600)) == nil)
        // Long idle: refilled to the burst, no more.
        #expect((0..<4).map { _ in budget.take(now: t0 + .seconds(60)) } == [1, 0, 0, nil])
    }
}
