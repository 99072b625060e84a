import Foundation

/// A node's own settings, read from `config.json` in its home directory.
public struct NodeConfig: Codable, Sendable {
    /// This node's id (validator node id).
    public var nodeId: String
    /// API listen host.
    public var apiHost: String = "127.0.0.1"
    /// API listen port.
    public var apiPort: Int = 8080
    /// P2P listen host (`0.0.0.0`: every interface; peers reach the address the genesis lists).
    public var p2pListenHost: String = "0.0.0.0"
    /// P2P listen port.
    public var p2pPort: Int = 7000
    /// Most transactions waiting in the mempool; beyond it submissions get 503.
    public var mempoolCapacity: Int = 10_000
    /// MiB of the chain database SQLite reads through a memory map (0: none). The mapped pages
    /// count in the node's resident set.
    public var sqliteMmapMiB: Int = 0
    /// MiB the node's anonymous resident memory may grow by before what the C allocator keeps
    /// freed is given back to the system (`HeapReturner`; 0: never).
    public var heapReturnMiB: Int = 64
    /// Heights of committed consensus blocks kept below the last committed one, served to
    /// validators that catch up (at least 16).
    public var consensusBlocksKept: Int = 10_000
    /// The mempool admits about this many seconds of the chain's recent commits (never fewer than
    /// a block's `maxBlockTxs`, never more than `mempoolCapacity`); beyond it submissions get 503
    /// at once. 0: the capacity alone.
    public var mempoolQueueSeconds: Double = 2
    /// Longest wait before a block is cut, milliseconds.
    public var blockIntervalMs: Int = 200
    /// Most transactions per block.
    public var maxBlockTxs: Int = 2_000
    /// Largest block payload (the encoded transactions), bytes; under BFT a leader stops filling a
    /// block there and replicas refuse larger proposals.
    public var maxBlockBytes: Int = 8 << 20
    /// Largest transaction body, bytes.
    public var maxBodyBytes: Int = 128 * 1024
    /// Largest `POST /v1/txs/batch` body, bytes (read no further: a larger one is refused with 413).
    public var maxBatchBytes: Int = 16 << 20
    /// Most open HTTP connections of the API; beyond it new ones wait in the listen backlog.
    public var maxHTTPConnections: Int = 2048
    /// An HTTP connection with no request in flight for this long is closed, seconds.
    public var httpIdleTimeoutSeconds: Int = 30
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the client (for throttling,
    /// rate limits and the audit log); from anyone else the header is ignored.
    public var trustedProxies: [String] = []
    /// HTTPS for the API: the certificate chain (PEM, leaf first) and its key, as paths (relative
    /// ones from the node's home). Both or neither; without them the API speaks plain HTTP
    /// (behind a TLS-terminating proxy, or on a closed network).
    public var apiTLSCertificate: String?
    /// See `apiTLSCertificate`.
    public var apiTLSKey: String?
    /// Accepted distance between a transaction's timestamp and the node clock, milliseconds.
    public var timestampToleranceMs: Int64 = 600_000
    /// fsync each committed block (true keeps committed blocks through power loss).
    public var syncCommits: Bool = true
    /// BFT round timeout before back-off, milliseconds.
    public var consensusTimeoutMs: Int = 3_000
    /// BFT: how long a leader with no transactions waits before proposing an empty block, milliseconds.
    public var emptyBlockDelayMs: Int = 1_000
    /// BFT, under load: a leader holding transactions but not half a block proposes no sooner than
    /// this long after the block it extends, milliseconds (0–1,000; 0: at once). Fewer, larger
    /// blocks when transactions arrive faster than rounds turn (`docs/consensus.md`, "Batching
    /// under load"); not delayed when the last block is older than this (a transaction after a
    /// quiet spell).
    public var minBlockIntervalMs: Int = 50
    /// Nice value of the consensus thread (-20…19; 0: as the rest of the process). The round's
    /// critical path — validating proposals, voting, committing — runs there; HTTP ingestion and
    /// gossip verification run on other threads. When they compete for the cores, a round that
    /// waits for CPU behind them makes blocks larger and every commit later; at a lower nice value
    /// the round goes first and ingestion absorbs the contention (the admission limit then refuses
    /// clients). Below 0 needs `CAP_SYS_NICE` or a nice limit (`LimitNICE=` in the systemd unit);
    /// without it the thread stays at the process's value and the node says so at start.
    public var consensusThreadNice: Int = -10
    /// Observer nodes: API base URLs of the nodes to fetch committed blocks from (tried in turn).
    /// A node that is not a validator of the genesis must have at least one.
    public var syncFrom: [String] = []
    /// Transaction bodies kept for this many heights below the tip; older blocks keep their
    /// headers, signatures, transaction ids, results and events, and the state stays whole
    /// (`docs/deploy.md`, pruning). 0 keeps every body.
    public var retainBlockBodies: Int = 0
    /// Every this many heights the node writes a snapshot of the whole state and, as a validator,
    /// signs it (`docs/proofs.md`, state snapshots); use the same value on every validator. 0: none.
    public var snapshotInterval: Int = 0
    /// How many of its newest snapshots the node keeps on disk (each is about the size of the state).
    public var snapshotKeep: Int = 2
    /// API base URLs to start an empty node from the newest certified state snapshot they offer,
    /// instead of replaying the chain from the genesis; ignored once the node holds blocks.
    public var snapshotFrom: [String] = []
    /// Observer nodes: pause between fetches once caught up, milliseconds.
    public var syncIntervalMs: Int = 250
    /// Host of the GS1 Digital Link resolver printed in crab codes (the crab contract's setting;
    /// every node of a chain must use the same).
    public var resolver: String = "id.xiangchain.example"
    /// Pause between two crab sweeps (expired coupons, overdue shipments), seconds; 0 turns the sweeper off.
    public var sweepIntervalSeconds: Int = 60
    /// `GET /v1/verify` lookups one client address may make per minute (429 past it; 0: no limit).
    public var verifyPerMinutePerClient: Int = 60
    /// `GET /v1/verify` lookups of one code per minute, from everyone (429 past it; 0: no limit).
    public var verifyPerMinutePerCode: Int = 30
    /// `POST /v1/complaints` one client address may make per hour (429 past it; 0: no limit).
    public var complaintsPerHourPerClient: Int = 10
    /// Most consumer checks the gateway records on chain per minute; past it lookups are still
    /// answered but not recorded (0: no budget).
    public var scanBudgetPerMinute: Int = 600
    // Consumer coupon flows (`POST /v1/coupons/{gcn}/otp|book|transfer`; 0 turns a limit off).
    /// One-time codes one client address may request per hour.
    public var otpPerHourPerClient: Int = 10
    /// One-time codes requested per hour for one coupon, from everyone.
    public var otpPerHourPerCoupon: Int = 5
    /// One-time codes sent per hour to one phone (counted by its salted hash).
    public var otpPerHourPerPhone: Int = 5
    /// Bookings and gifts (tries included) one client address may make per hour.
    public var couponActionsPerHourPerClient: Int = 30
    /// How long a one-time code stays valid, seconds.
    public var otpTtlSeconds: Int = 300
    /// Wrong codes after which a one-time code is void.
    public var otpMaxTries: Int = 5
    /// Most one-time codes pending in memory (the oldest goes first when full).
    public var otpMaxPending: Int = 10_000
    /// How one-time codes reach consumers: `log` (the devnet's `<home>/sms.log`, phones and codes
    /// in clear: tests and demos only) or `none` (no coupon flows). A provider plugs in as an
    /// `SMSSender` passed to `CrabGateway.load`.
    public var smsSender: String = "log"
    /// Most captured EPCIS events one query of `GET /v1/epcis/events` considers; a chain with
    /// more refuses queries with `epcis_query_too_large` rather than answer from a part of them.
    public var epcisMaxScannedEvents: Int = 200_000
    /// Directory of GS1's EPCIS XML schemas (`2.0/EPCglobal-epcis-2_0.xsd`, optionally
    /// `1.2/EPCglobal-epcis-1_2.xsd`, each with the files it imports), relative to the node home
    /// unless absolute; XML captures are checked against them. Nil: the node takes no XML
    /// captures (`unsupported_media_type`), JSON-LD only.
    public var epcisXMLSchemas: String?
    /// Directory holding `ca.key.pem` and `ca.cert.pem` of the org CA that issues this node's
    /// console accounts' certificates; nil: the console creates no accounts (`accounts_unavailable`).
    public var accountCA: String?
    /// CA directories of member orgs without a node of their own whose console accounts this
    /// node hosts (e.g. the association's one-stop platform for small member firms).
    public var hostedAccountCAs: [String] = []
    /// How often a node with console accounts applies its org's hosting records from the chain
    /// and publishes its own changes (`docs/accounts.md`, "Every node of the hosting org"), ms.
    public var hostingSyncIntervalMs: Int = 1000

    /// Who may read `GET /metrics` by the address of the connection (not `X-Forwarded-For`):
    /// exact IP addresses, or `loopback` for any loopback address. The metrics reveal operational
    /// data (heights, peers, refusals), so by default only the node's own machine reads them.
    public var metricsAllowFrom: [String] = ["loopback"]
    /// A bearer token (at least 16 characters) that lets any client read `GET /metrics` with
    /// `Authorization: Bearer <token>` (a Prometheus server on another machine); nil: none.
    public var metricsToken: String?
    /// How the node writes its log to standard error: `text` (one readable line per entry) or
    /// `json` (one JSON object per line); `--log-format` overrides it.
    public var logFormat: String = "text"

    /// A config with defaults.
    public init(nodeId: String, apiPort: Int = 8080, p2pPort: Int = 7000) {
        self.nodeId = nodeId
        self.apiPort = apiPort
        self.p2pPort = p2pPort
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = NodeConfig(nodeId: "")
        nodeId = try c.decode(String.self, forKey: .nodeId)
        apiHost = try c.decodeIfPresent(String.self, forKey: .apiHost) ?? d.apiHost
        apiPort = try c.decodeIfPresent(Int.self, forKey: .apiPort) ?? d.apiPort
        p2pPort = try c.decodeIfPresent(Int.self, forKey: .p2pPort) ?? d.p2pPort
        // Homes made before the setting listened on loopback.
        p2pListenHost = try c.decodeIfPresent(String.self, forKey: .p2pListenHost) ?? "127.0.0.1"
        mempoolCapacity = try c.decodeIfPresent(Int.self, forKey: .mempoolCapacity) ?? d.mempoolCapacity
        sqliteMmapMiB = min(max(try c.decodeIfPresent(Int.self, forKey: .sqliteMmapMiB) ?? d.sqliteMmapMiB, 0), 1 << 16)
        heapReturnMiB = min(max(try c.decodeIfPresent(Int.self, forKey: .heapReturnMiB) ?? d.heapReturnMiB, 0), 1 << 20)
        consensusBlocksKept = min(
            max(try c.decodeIfPresent(Int.self, forKey: .consensusBlocksKept) ?? d.consensusBlocksKept, 16), 10_000_000)
        mempoolQueueSeconds = try c.decodeIfPresent(Double.self, forKey: .mempoolQueueSeconds) ?? d.mempoolQueueSeconds
        blockIntervalMs = try c.decodeIfPresent(Int.self, forKey: .blockIntervalMs) ?? d.blockIntervalMs
        maxBlockTxs = try c.decodeIfPresent(Int.self, forKey: .maxBlockTxs) ?? d.maxBlockTxs
        maxBlockBytes = try c.decodeIfPresent(Int.self, forKey: .maxBlockBytes) ?? d.maxBlockBytes
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? d.maxBodyBytes
        maxBatchBytes = try c.decodeIfPresent(Int.self, forKey: .maxBatchBytes) ?? d.maxBatchBytes
        maxHTTPConnections = try c.decodeIfPresent(Int.self, forKey: .maxHTTPConnections) ?? d.maxHTTPConnections
        httpIdleTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .httpIdleTimeoutSeconds) ?? d.httpIdleTimeoutSeconds
        trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? d.trustedProxies
        apiTLSCertificate = try c.decodeIfPresent(String.self, forKey: .apiTLSCertificate)
        apiTLSKey = try c.decodeIfPresent(String.self, forKey: .apiTLSKey)
        timestampToleranceMs = try c.decodeIfPresent(Int64.self, forKey: .timestampToleranceMs) ?? d.timestampToleranceMs
        syncCommits = try c.decodeIfPresent(Bool.self, forKey: .syncCommits) ?? d.syncCommits
        consensusTimeoutMs = try c.decodeIfPresent(Int.self, forKey: .consensusTimeoutMs) ?? d.consensusTimeoutMs
        emptyBlockDelayMs = try c.decodeIfPresent(Int.self, forKey: .emptyBlockDelayMs) ?? d.emptyBlockDelayMs
        minBlockIntervalMs = try c.decodeIfPresent(Int.self, forKey: .minBlockIntervalMs) ?? d.minBlockIntervalMs
        guard (0...1_000).contains(minBlockIntervalMs) else {
            throw DecodingError.dataCorruptedError(
                forKey: .minBlockIntervalMs, in: c, debugDescription: "minBlockIntervalMs must be 0…1,000")
        }
        consensusThreadNice = try c.decodeIfPresent(Int.self, forKey: .consensusThreadNice) ?? d.consensusThreadNice
        guard (-20...19).contains(consensusThreadNice) else {
            throw DecodingError.dataCorruptedError(
                forKey: .consensusThreadNice, in: c, debugDescription: "consensusThreadNice must be -20…19")
        }
        syncFrom = try c.decodeIfPresent([String].self, forKey: .syncFrom) ?? d.syncFrom
        syncIntervalMs = try c.decodeIfPresent(Int.self, forKey: .syncIntervalMs) ?? d.syncIntervalMs
        retainBlockBodies = try c.decodeIfPresent(Int.self, forKey: .retainBlockBodies) ?? d.retainBlockBodies
        snapshotInterval = try c.decodeIfPresent(Int.self, forKey: .snapshotInterval) ?? d.snapshotInterval
        snapshotFrom = try c.decodeIfPresent([String].self, forKey: .snapshotFrom) ?? d.snapshotFrom
        snapshotKeep = try c.decodeIfPresent(Int.self, forKey: .snapshotKeep) ?? d.snapshotKeep
        guard snapshotKeep >= 1 else {
            throw DecodingError.dataCorruptedError(
                forKey: .snapshotKeep, in: c, debugDescription: "snapshotKeep must be 1 or more")
        }
        guard snapshotInterval >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .snapshotInterval, in: c, debugDescription: "snapshotInterval must be 0 (none) or more")
        }
        guard retainBlockBodies >= 0 else {
            throw DecodingError.dataCorruptedError(
                forKey: .retainBlockBodies, in: c, debugDescription: "retainBlockBodies must be 0 (keep all) or more")
        }
        resolver = try c.decodeIfPresent(String.self, forKey: .resolver) ?? d.resolver
        sweepIntervalSeconds = try c.decodeIfPresent(Int.self, forKey: .sweepIntervalSeconds) ?? d.sweepIntervalSeconds
        verifyPerMinutePerClient =
            try c.decodeIfPresent(Int.self, forKey: .verifyPerMinutePerClient) ?? d.verifyPerMinutePerClient
        verifyPerMinutePerCode = try c.decodeIfPresent(Int.self, forKey: .verifyPerMinutePerCode) ?? d.verifyPerMinutePerCode
        complaintsPerHourPerClient =
            try c.decodeIfPresent(Int.self, forKey: .complaintsPerHourPerClient) ?? d.complaintsPerHourPerClient
        scanBudgetPerMinute = try c.decodeIfPresent(Int.self, forKey: .scanBudgetPerMinute) ?? d.scanBudgetPerMinute
        otpPerHourPerClient = try c.decodeIfPresent(Int.self, forKey: .otpPerHourPerClient) ?? d.otpPerHourPerClient
        otpPerHourPerCoupon = try c.decodeIfPresent(Int.self, forKey: .otpPerHourPerCoupon) ?? d.otpPerHourPerCoupon
        otpPerHourPerPhone = try c.decodeIfPresent(Int.self, forKey: .otpPerHourPerPhone) ?? d.otpPerHourPerPhone
        couponActionsPerHourPerClient =
            try c.decodeIfPresent(Int.self, forKey: .couponActionsPerHourPerClient) ?? d.couponActionsPerHourPerClient
        otpTtlSeconds = try c.decodeIfPresent(Int.self, forKey: .otpTtlSeconds) ?? d.otpTtlSeconds
        otpMaxTries = try c.decodeIfPresent(Int.self, forKey: .otpMaxTries) ?? d.otpMaxTries
        otpMaxPending = try c.decodeIfPresent(Int.self, forKey: .otpMaxPending) ?? d.otpMaxPending
        smsSender = try c.decodeIfPresent(String.self, forKey: .smsSender) ?? d.smsSender
        epcisMaxScannedEvents = try c.decodeIfPresent(Int.self, forKey: .epcisMaxScannedEvents) ?? d.epcisMaxScannedEvents
        epcisXMLSchemas = try c.decodeIfPresent(String.self, forKey: .epcisXMLSchemas)
        accountCA = try c.decodeIfPresent(String.self, forKey: .accountCA)
        hostedAccountCAs = try c.decodeIfPresent([String].self, forKey: .hostedAccountCAs) ?? d.hostedAccountCAs
        hostingSyncIntervalMs =
            try c.decodeIfPresent(Int.self, forKey: .hostingSyncIntervalMs) ?? d.hostingSyncIntervalMs
        metricsAllowFrom = try c.decodeIfPresent([String].self, forKey: .metricsAllowFrom) ?? d.metricsAllowFrom
        metricsToken = try c.decodeIfPresent(String.self, forKey: .metricsToken)
        logFormat = try c.decodeIfPresent(String.self, forKey: .logFormat) ?? d.logFormat
    }

    /// The URL of this node's API as reached from the same machine (a wildcard listen host is
    /// reached through loopback).
    public var apiURL: String {
        let host = ["0.0.0.0", "::", "[::]", ""].contains(apiHost) ? "127.0.0.1" : apiHost
        let scheme = apiTLSCertificate == nil ? "http" : "https"
        return "\(scheme)://\(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host):\(apiPort)"
    }

    /// Loads `config.json`.
    public static func load(from url: URL) throws -> NodeConfig {
        try JSONDecoder().decode(NodeConfig.self, from: Data(contentsOf: url))
    }

    /// Writes pretty JSON.
    public func write(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(self).write(to: url, options: .atomic)
    }
}
