import ChainCore
import CrabTraceContract
import Execution
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import Node

/// The node's HTTP/JSON API under `/v1` (described in `docs/openapi.yaml`), `GET /metrics` and the web console,
/// assembled from route groups: chain (`ChainRoutes`), sync and stream (`SyncRoutes`), crab
/// (`CrabRoutes`), EPCIS (`EPCISRoutes`) and console (`ConsoleRoutes`).
public struct ChainAPI: Sendable {
    let api: APIContext

    /// Creates the API for a node (`consensus` reports BFT health, nil in solo mode; `sync` is the
    /// block sync of an observer; `gateway` signs consumers' scans and complaints).
    public init(
        node: ChainNode, maxWait: Duration = .seconds(30), consensus: (@Sendable () -> ConsensusStatus?)? = nil,
        sync: BlockSyncService? = nil, gateway: CrabGateway? = nil, console: ConsoleAccounts? = nil,
        xmlSchemas: EPCISXMLSchemas? = nil, metrics: MetricsExport? = nil
    ) {
        api = APIContext(
            node: node, admission: Admission(node: node, upstream: sync?.sources), maxWait: maxWait, consensus: consensus,
            sync: sync, gateway: gateway,
            authenticator: RequestAuthenticator(
                memberships: node.configSource.memberships, chainId: node.chainId, nodeId: node.config.nodeId),
            console: console, crabEPCIS: CrabEPCISCache(), limits: PublicRateLimits(config: node.config),
            codes: OneTimeCodes(config: node.config),
            xmlSchemas: xmlSchemas, metricsExport: metrics)
    }

    /// The router with every route.
    public func router() -> Router<NodeRequestContext> {
        let router = Router(context: NodeRequestContext.self)
        // Request ids, the access log, request counts and GET /metrics (Observability.swift).
        router.middlewares.add(ObservabilityMiddleware(api: api))
        router.middlewares.add(ErrorMiddleware())
        router.middlewares.add(ClientAddressMiddleware(trustedProxies: Set(api.node.config.trustedProxies)))
        // The web console's pages and files, outside /v1 (ConsoleFiles.swift).
        router.middlewares.add(ConsoleMiddleware(console: .bundled))
        let crab = CrabRoutes(api: api)
        router.addRoutes(ChainRoutes(api: api).routes, atPath: "/v1")
        router.addRoutes(SyncRoutes(api: api).routes, atPath: "/v1")
        router.addRoutes(crab.routes, atPath: "/v1")
        router.addRoutes(CouponRoutes(api: api).routes, atPath: "/v1")
        let contracts = ContractRoutes(api: api)
        let console = ConsoleRoutes(api: api, crab: crab, contracts: contracts)
        router.addRoutes(EPCISRoutes(api: api, console: console).routes, atPath: "/v1/epcis")
        router.addRoutes(GovernanceRoutes(api: api).routes, atPath: "/v1/governance")
        router.addRoutes(contracts.routes, atPath: "/v1/wasm")
        router.addRoutes(console.routes, atPath: "/v1/console")
        let metrics = MetricsRoute(api: api)
        router.get("metrics") { request, context in try metrics.metrics(request, context: context) }
        return router
    }

    /// How the HTTP server protects itself from clients that hold connections or send malformed
    /// requests (`docs/architecture.md`, limits).
    public struct ServerLimits: Sendable {
        /// Most open HTTP connections; beyond it new ones wait in the listen backlog.
        public var maxConnections: Int = 2048
        /// A connection with no request in flight for this long is closed.
        public var idleTimeout: Duration = .seconds(30)

        /// The defaults.
        public init() {}
    }

    /// An application serving the API on `host:port`, over HTTPS when `tls` is given (the node's
    /// API certificate and key), plain HTTP otherwise.
    public func application(
        host: String, port: Int, limits: ServerLimits = ServerLimits(), tls: TLSConfiguration? = nil, logger: Logger
    ) throws -> some ApplicationProtocol {
        let stream = SyncRoutes(api: api)
        let submissions = SubmissionStream(api: api)
        let idle = TimeAmount.milliseconds(Int64(limits.idleTimeout.components.seconds * 1000))
        // HTTP/1 with a WebSocket upgrade for /v1/stream (SyncRoutes) and /v1/txs/stream
        // (SubmissionStream) only, malformed requests answered and closed, idle connections
        // closed, the number of connections bounded. A WebSocket frame is at most 64 KiB (a larger
        // one closes its connection; a submission may come in several).
        let ws = WebSocketServerConfiguration(maxFrameSize: SubmissionStream.maxFrameBytes)
        let plain = HTTPServerBuilder { responder in
            GuardedChildChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, configuration: .init(http1: .init(idleTimeout: idle), ws: ws)
                ) { head, channel, _ in
                    if SubmissionStream.isStream(head.path) {
                        let watch = StallWatch(clientsTurn: true)
                        submissions.refuseQuickly(on: channel, watch: watch)
                        return .upgrade([:]) { inbound, outbound, _ in
                            try await submissions.serve(
                                inbound: inbound, outbound: outbound, channel: channel, watch: watch,
                                idle: limits.idleTimeout)
                        }
                    }
                    guard SyncRoutes.isStream(head.path) else { return .dontUpgrade }
                    let from = SyncRoutes.streamStart(query: head.path ?? "")
                    return .upgrade([:]) { inbound, outbound, _ in
                        try await stream.stream(
                            from: from, inbound: inbound, outbound: outbound, channel: channel, idle: limits.idleTimeout)
                    }
                }, firstRequestTimeout: idle)
        }
        // TLS in front of it all: the first-request timeout also bounds a stalled handshake.
        let server = try tls.map { try HTTPServerBuilder.tls(plain, tlsConfiguration: $0) } ?? plain
        return Application(
            router: router(), server: server,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "xiangchain",
                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            logger: logger)
    }
}

/// The API's HTTPS settings from PEM files.
public enum APITLS {
    /// A server configuration from a certificate chain (leaf first) and its private key, both PEM;
    /// TLS 1.2 or later (phones of a few years back), the library's default ciphers. `bad_config`
    /// when a file cannot be read or does not hold what it should.
    public static func configuration(certificateChain: String, privateKey: String) throws(ChainError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateChain)
        } catch {
            throw ChainError(.badConfig, "API certificate \(certificateChain): \(error)")
        }
        guard !chain.isEmpty else { throw ChainError(.badConfig, "API certificate \(certificateChain) holds no certificate") }
        do {
            key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        } catch {
            throw ChainError(.badConfig, "API key \(privateKey): \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // Building the context checks that the key belongs to the leaf certificate, so that a
        // mismatch stops the node at start rather than failing every handshake.
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw ChainError(.badConfig, "API key \(privateKey) does not fit certificate \(certificateChain): \(error)")
        }
        return tls
    }
}
