import ChainCore
import CrabTraceContract
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Identity
import Logging
import NIOCore
import Node
import Storage

/// The node's HTTP/JSON API under `/v1` (described in `docs/openapi.yaml`).
public struct ChainAPI: Sendable {
    let node: ChainNode
    /// Longest `wait=commit` wait.
    let maxWait: Duration
    /// Consensus health, under BFT.
    let consensus: (@Sendable () -> ConsensusStatus)?
    /// An observer's block sync (its status, and the validators submissions are forwarded to).
    let sync: BlockSyncService?
    /// Signs consumers' crab transactions; nil when this node records no scans and takes no complaints.
    let gateway: CrabGateway?
    /// Checks signed requests of the regulator's and association's routes.
    let authenticator: RequestAuthenticator
    /// Console accounts (sessions, key custody, audit); nil when this node serves no console.
    let console: ConsoleAccounts?
    /// The crab steps exported as EPCIS, per committed height (`GET /v1/epcis/events`).
    let crabEPCIS = CrabEPCISCache()

    /// Creates the API for a node (`consensus` reports BFT health, nil in solo mode; `sync` is the
    /// block sync of an observer; `gateway` signs consumers' scans and complaints).
    public init(
        node: ChainNode, maxWait: Duration = .seconds(30), consensus: (@Sendable () -> ConsensusStatus)? = nil,
        sync: BlockSyncService? = nil, gateway: CrabGateway? = nil, console: ConsoleAccounts? = nil
    ) {
        self.console = console
        self.node = node
        self.maxWait = maxWait
        self.consensus = consensus
        self.sync = sync
        self.gateway = gateway
        authenticator = RequestAuthenticator(membership: node.verifier.membership)
    }

    /// The router with every route.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(ErrorMiddleware())
        // The web console's pages and files, outside /v1 (ConsoleFiles.swift).
        router.middlewares.add(ConsoleMiddleware(console: .bundled))
        router.get("/v1/status") { _, _ in try self.status() }
        router.get("/v1/genesis") { _, _ in try self.genesisDocument() }
        router.post("/v1/txs") { request, context in try await self.submit(request, context) }
        router.post("/v1/txs/batch") { request, _ in try await self.submitBatch(request) }
        router.get("/v1/txs/:txid") { _, context in try self.transaction(context.parameters.require("txid")) }
        router.get("/v1/txs/:txid/proof") { _, context in try self.proof(context.parameters.require("txid")) }
        router.get("/v1/blocks") { request, _ in try self.blocks(request) }
        router.get("/v1/blocks/:height") { _, context in try self.block(context.parameters.require("height")) }
        router.get("/v1/evidence/:hash") { _, context in try self.evidence(context.parameters.require("hash")) }
        router.get("/v1/sync/blocks") { request, _ in try self.syncBlocks(request) }
        router.get("/v1/epcis/events") { request, _ in try self.epcisEvents(request) }
        // Crab anti-counterfeiting (handlers in CrabAPI.swift).
        router.get("/v1/verify") { request, _ in try await self.verify(request) }
        router.post("/v1/complaints") { request, _ in try await self.complain(request) }
        router.get("/v1/trace/accountability") { request, _ in try self.accountability(request) }
        router.get("/v1/crab/alerts") { request, _ in try self.alerts(request) }
        router.get("/v1/crab/complaints") { request, _ in try self.complaints(request) }
        router.get("/v1/crab/members/:org") { _, context in try self.member(context.parameters.require("org")) }
        router.get("/v1/crab/seasons/:id") { _, context in try self.season(context.parameters.require("id")) }
        registerConsole(router)
        return router
    }

    /// An application serving the API on `host:port`.
    public func application(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(),
            // HTTP/1 with a WebSocket upgrade for /v1/stream only (BlockStream.swift).
            server: .http1WebSocketUpgrade { head, _, _ in
                guard Self.isStream(head.path) else { return .dontUpgrade }
                let from = Self.streamStart(query: head.path ?? "")
                return .upgrade([:]) { inbound, outbound, _ in
                    try await self.stream(from: from, inbound: inbound, outbound: outbound)
                }
            },
            configuration: .init(address: .hostname(host, port: port), serverName: "xiangchain"), logger: logger)
    }

    // MARK: handlers

    func status() throws -> Response {
        let tip = try node.store.tip()
        var consensusJSON = JSONValue.null
        var syncJSON = JSONValue.null
        if let s = sync?.status {
            var o: [String: JSONValue] = [
                "sources": .array(s.sources.map { .string($0) }), "source": .string(s.source),
                "lastFetchAt": .int(s.lastFetchAt), "lastBlockAt": .int(s.lastBlockAt), "blocksSynced": .int(s.blocksSynced),
                "healthy": .bool(s.lastError == nil && s.lastFetchAt > 0),
            ]
            if let e = s.lastError { o["lastError"] = .string(e) }
            syncJSON = .object(o)
        }
        if let c = consensus?() {
            var o: [String: JSONValue] = [
                "round": .int(Int64(c.round)), "leader": .string(c.leader), "highQCRound": .int(Int64(c.highQCRound)),
                "lastProgressAt": .int(c.lastProgressAt), "peersConnected": .array(c.peersConnected.map { .string($0) }),
                "validators": .int(c.validators), "quorum": .int(c.quorum),
                "healthy": .bool(c.stalled == nil),
            ]
            if let why = c.stalled { o["stalled"] = .string(why) }
            consensusJSON = .object(o)
        }
        return JSONResponse.make(
            .object([
                "chainId": .string(node.chainId), "suite": .string(node.genesis.suite.rawValue),
                "nodeId": .string(node.config.nodeId), "mode": .string(mode),
                "consensus": consensusJSON, "sync": syncJSON, "features": .array([.string("stream")]),
                "height": .int(Int64(tip?.height ?? 0)), "lastBlockHash": .string((tip?.hash ?? .zero).hex),
                "lastBlockTime": .int(tip?.timestamp ?? 0), "lastCommitAt": .int(tip?.timestamp ?? 0),
                "genesisHash": .string(node.genesisHash.hex),
                "validators": .array(
                    node.genesis.validators.map { .object(["nodeId": .string($0.nodeId), "org": .string($0.org)]) }),
                "orgs": .array(node.genesis.orgs.map { .string($0.name) }),
                "mempool": .object([
                    "size": .int(node.mempool.count), "capacity": .int(node.mempool.capacity),
                ]),
            ]))
    }

    /// solo, bft or observer.
    var mode: String { node.isObserver ? "observer" : consensus == nil ? "solo" : "bft" }

    /// `GET /v1/sync/blocks?from=H&limit=N`: committed blocks from H with their finality
    /// signatures, as a binary `BlockSyncBatch`; it stops before the first block that does not yet
    /// carry a quorum of signatures, and after about 4 MiB.
    func syncBlocks(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        guard let raw = q.get("from"), let from = UInt64(raw), from >= 1 else {
            throw ChainError(.invalidParameter, "from must be an integer ≥ 1")
        }
        var limit = 64
        if let raw = q.get("limit") {
            guard let v = Int(raw), (1...BlockSyncBatch.maxBlocks).contains(v) else {
                throw ChainError(.invalidParameter, "limit must be 1–\(BlockSyncBatch.maxBlocks)")
            }
            limit = v
        }
        let blocks = try node.finalBlocks(from: from, limit: limit)
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        return Response(
            status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: BlockSyncBatch.encode(blocks))))
    }

    func genesisDocument() throws -> Response {
        let data = try JSONEncoder().encode(node.genesis)
        return JSONResponse.make(try JSONParser().parse(Array(data)))
    }

    func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let bytes = try await Self.body(request, limit: node.config.maxBodyBytes * 2 + 64 * 1024)
        let tx = try Self.parseSubmission(bytes)
        let wait = request.uri.queryParameters.get("wait")
        guard wait == nil || wait == "commit" else {
            throw ChainError(.invalidParameter, "wait must be \"commit\" when given")
        }
        // An observer checks the transaction like any node, then hands it to a validator; it sees
        // the commit through block sync.
        let admit: @Sendable () async throws -> Void =
            if let sync {
                { try await Self.forward(tx, bytes, node: self.node, sources: sync.sources) }
            } else {
                { try self.node.submit(tx) }
            }
        guard wait == "commit" else {
            try await admit()
            return JSONResponse.make(status: .accepted, .object(["txid": .string(tx.txid)]))
        }
        return try await admitAndWait(tx, request, admit)
    }

    /// Registers `tx` for its commit, admits it, and answers `{txid, status, height, index, error?}`
    /// once committed (or `pending` after the timeout).
    func admitAndWait(
        _ tx: SignedTransaction, _ request: Request, _ admit: @Sendable () async throws -> Void
    ) async throws -> Response {
        var timeout = maxWait
        if let raw = request.uri.queryParameters.get("timeout") {
            guard let ms = Int(raw), ms > 0 else { throw ChainError(.invalidParameter, "timeout must be milliseconds > 0") }
            timeout = min(maxWait, .milliseconds(ms))
        }
        let ticket = node.notifier.register(tx.id)
        do {
            try await admit()
        } catch {
            node.notifier.cancel(ticket)
            throw error
        }
        guard let outcome = await node.notifier.wait(ticket, timeout: timeout) else {
            return JSONResponse.make(status: .accepted, .object(["txid": .string(tx.txid), "status": .string("pending")]))
        }
        var o: [String: JSONValue] = [
            "txid": .string(tx.txid), "status": .string(outcome.error == nil ? "committed" : "failed"),
            "height": .int(Int64(outcome.height)), "index": .int(outcome.index),
        ]
        if let e = outcome.error { o["error"] = APIError.errorObject(e) }
        return JSONResponse.make(.object(o))
    }

    /// The request body, refused with `too_large` over `limit` bytes.
    static func body(_ request: Request, limit: Int) async throws -> [UInt8] {
        do {
            return Array(buffer: try await request.body.collect(upTo: limit))
        } catch {
            throw ChainError(.tooLarge, "request body exceeds \(limit) bytes")
        }
    }

    /// The request body as strict JSON (`too_large`, `malformed_json`).
    static func jsonBody(_ request: Request, limit: Int, maxDepth: Int) async throws -> JSONValue {
        let bytes = try await body(request, limit: limit)
        do {
            return try JSONParser(maxDepth: maxDepth).parse(bytes)
        } catch {
            throw ChainError(.malformedJSON, "request body is not valid JSON: \(error.message)")
        }
    }

    /// The request body as a JSON object with no members but `allowed` (`malformed` otherwise).
    static func jsonObjectBody(_ request: Request, limit: Int, maxDepth: Int, allowed: Set<String>) async throws
        -> [String: JSONValue]
    {
        guard let o = try await jsonBody(request, limit: limit, maxDepth: maxDepth).objectValue else {
            throw ChainError(.malformed, "request body must be a JSON object")
        }
        if let extra = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ChainError(.malformed, "unknown field \"\(extra)\"")
        }
        return o
    }

    /// Most transactions in one `POST /v1/txs/batch`.
    static let maxBatch = 1_000

    /// `POST /v1/txs/batch` `{"txs": [envelope, …]}`: admits each transaction as `POST /v1/txs`
    /// would, without waiting for commit. Answers 200 with one result per transaction, in order:
    /// `{"txid", "status": "accepted"}` or `{"txid"?, "error": {code, message}}`. A body that is
    /// not such a list is refused whole (400); when every transaction was refused for lack of room
    /// (`mempool_full`), the answer is 503 with `Retry-After`.
    func submitBatch(_ request: Request) async throws -> Response {
        let value = try await Self.jsonBody(request, limit: Self.maxBatch * (node.config.maxBodyBytes * 2 + 4096), maxDepth: 5)
        guard let o = value.objectValue, o.count == 1, let list = o["txs"]?.arrayValue else {
            throw ChainError(.malformed, "request body must be {\"txs\": [ … ]}")
        }
        guard (1...Self.maxBatch).contains(list.count) else {
            throw ChainError(.malformed, "a batch holds 1–\(Self.maxBatch) transactions")
        }
        var results: [JSONValue] = []
        results.reserveCapacity(list.count)
        var full = 0
        for item in list {
            var txid: String?
            do {
                let tx = try Self.parseSubmission(item.canonicalBytes)
                txid = tx.txid
                if let sync {
                    try await Self.forward(tx, item.canonicalBytes, node: node, sources: sync.sources)
                } else {
                    try node.submit(tx)
                }
                results.append(.object(["txid": .string(tx.txid), "status": .string("accepted")]))
            } catch let e as ChainError {
                if e.code == .mempoolFull { full += 1 }
                var r: [String: JSONValue] = ["error": APIError.errorObject(e)]
                if let txid { r["txid"] = .string(txid) }
                results.append(.object(r))
            }
        }
        if full == list.count { throw ChainError(.mempoolFull, "the mempool is full; no transaction of the batch was taken") }
        return JSONResponse.make(.object(["results": .array(results)]))
    }

    /// Verifies `tx` locally, then submits it to the first source that takes it. A source's own
    /// refusal (a `ChainError` with a client error code) is final; unreachable sources are skipped.
    static func forward(_ tx: SignedTransaction, _ bytes: [UInt8], node: ChainNode, sources: [any BlockSource]) async throws {
        _ = try node.verifier.verify(tx, nowMillis: ChainNode.nowMillis())
        guard try node.store.committedIDs(among: [tx.id]).isEmpty else {
            throw ChainError(.duplicateTx, "transaction \(tx.id.hex) is already committed")
        }
        var last: (any Error)?
        for source in sources {
            do {
                try await source.submit(bytes)
                return
            } catch let e as ChainError where APIError.status(for: e.code).code < 500 {
                throw e
            } catch {
                last = error
            }
        }
        throw ChainError(.upstreamUnavailable, "no validator took the transaction: \(last.map { "\($0)" } ?? "no sources")")
    }

    /// Parses `{"body", "signature", "signer"}` strictly.
    static func parseSubmission(_ bytes: [UInt8]) throws(ChainError) -> SignedTransaction {
        let value: JSONValue
        do {
            value = try JSONParser(maxDepth: 4).parse(bytes)
        } catch {
            throw ChainError(.malformedJSON, "request body is not valid JSON: \(error.message)")
        }
        guard let o = value.objectValue else { throw ChainError(.malformed, "request body must be a JSON object") }
        func field(_ name: String) throws(ChainError) -> String {
            guard let s = o[name]?.stringValue else { throw ChainError(.malformed, "\"\(name)\" must be a string") }
            return s
        }
        if let extra = o.keys.sorted().first(where: { !["body", "signature", "signer"].contains($0) }) {
            throw ChainError(.malformed, "unknown field \"\(extra)\"")
        }
        return try TransactionSubmission(body: field("body"), signature: field("signature"), signer: field("signer")).decode()
    }

    static func parseTxid(_ raw: String) throws(ChainError) -> Hash256 {
        guard Hex.isLowercase(raw, byteCount: 32), let h = Hash256(hex: raw) else {
            throw ChainError(.invalidParameter, "txid must be 64 lowercase hex characters")
        }
        return h
    }

    func transaction(_ raw: String) throws -> Response {
        let id = try Self.parseTxid(raw)
        if let t = try node.store.transaction(id) {
            let time = try node.store.block(at: t.height)?.header.timestamp
            return JSONResponse.make(JSONViews.transaction(t, blockTime: time))
        }
        if node.mempool.contains(id) {
            return JSONResponse.make(.object(["txid": .string(raw), "status": .string("pending")]))
        }
        throw ChainError(.notFound, "no transaction \(raw)")
    }

    func proof(_ raw: String) throws -> Response {
        let id = try Self.parseTxid(raw)
        guard let proof = try proofJSON(id) else { throw ChainError(.notFound, "no committed transaction \(raw)") }
        return JSONResponse.make(proof)
    }

    /// The inclusion proof of a committed transaction, as `GET /v1/txs/{txid}/proof` answers it; nil when not committed.
    func proofJSON(_ id: Hash256) throws -> JSONValue? {
        guard let t = try node.store.transaction(id), let block = try node.store.block(at: t.height) else { return nil }
        let leaves = block.txids.map { MerkleTree.leafHash($0.bytes) }
        guard let path = MerkleTree.inclusionProof(index: t.index, leafHashes: leaves),
            var header = JSONViews.header(block.header).objectValue
        else {
            throw ChainError(.storageCorrupt, "transaction index outside its block")
        }
        let headerBytes = JSONValue.string(Data(block.header.encoded).base64EncodedString())
        header["headerBytes"] = headerBytes
        header["headerHash"] = .string(block.hash.hex)
        return .object([
            "txid": .string(id.hex), "height": .int(Int64(t.height)), "leafIndex": .int(t.index),
            "treeSize": .int(leaves.count), "auditPath": .array(path.map { .string($0.hex) }),
            "txRoot": .string(block.header.txRoot.hex), "header": .object(header), "headerBytes": headerBytes,
            "headerHash": .string(block.hash.hex),
            "finality": .object([
                "kind": .string(node.genesis.validators.count == 1 ? "solo" : "quorum"), "quorum": .int(node.genesis.quorum),
                "signedMessage": .string("XIANGCHAIN-BLOCK-V1 || headerHash"),
                "signatures": JSONViews.signatures(block.signatures),
            ]),
            "status": .string(t.result.succeeded ? "committed" : "failed"),
        ])
    }

    func block(_ raw: String) throws -> Response {
        guard let h = UInt64(raw) else { throw ChainError(.invalidParameter, "height must be a non-negative integer") }
        guard let b = try node.store.block(at: h) else { throw ChainError(.notFound, "no block at height \(h)") }
        return JSONResponse.make(JSONViews.block(b))
    }

    func blocks(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        let tipHeight = try node.store.tip()?.height ?? 0
        var from = tipHeight > 19 ? tipHeight - 19 : 1
        var limit = 20
        if let raw = q.get("from") {
            guard let v = UInt64(raw), v >= 1 else { throw ChainError(.invalidParameter, "from must be an integer ≥ 1") }
            from = v
        }
        if let raw = q.get("limit") {
            guard let v = Int(raw), (1...100).contains(v) else { throw ChainError(.invalidParameter, "limit must be 1–100") }
            limit = v
        }
        let list = try node.store.blocks(from: from, limit: limit)
        return JSONResponse.make(.object(["height": .int(Int64(tipHeight)), "blocks": .array(list.map(JSONViews.block))]))
    }

    func evidence(_ raw: String) throws -> Response {
        let hash = raw.lowercased()
        guard Hex.isLowercase(hash, byteCount: 32) else {
            throw ChainError(.invalidParameter, "hash must be 64 hex characters")
        }
        guard let bytes = try node.store.read("evidence/\(hash)") else {
            throw ChainError(.notFound, "no evidence for hash \(hash)")
        }
        return JSONResponse.make(try JSONParser().parse(bytes))
    }
}
