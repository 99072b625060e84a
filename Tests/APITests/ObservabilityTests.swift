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
}
