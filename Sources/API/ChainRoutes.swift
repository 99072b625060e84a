import ChainCore
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import NIOCore
import Node
import Storage

/// The chain's own routes: status, genesis, transactions (submit, batch, look up, prove), blocks
/// and evidence.
struct ChainRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.get("status") { _, _ in try self.status() }
        r.get("genesis") { _, _ in try self.genesisDocument() }
        r.post("txs") { request, _ in try await self.submit(request) }
        r.post("txs/batch") { request, _ in try await self.submitBatch(request) }
        r.get("txs/:txid") { _, context in try await self.transaction(context.parameters.require("txid")) }
        r.get("txs/:txid/proof") { _, context in try self.proof(context.parameters.require("txid")) }
        r.get("blocks") { request, _ in try self.blocks(request) }
        r.get("blocks/:height") { _, context in try self.block(context.parameters.require("height")) }
        r.get("evidence/:hash") { _, context in try self.evidence(context.parameters.require("hash")) }
        return r
    }

    func status() throws -> Response {
        let tip = try node.store.tip()
        let config = node.chainConfig
        var consensusJSON = JSONValue.null
        var syncJSON = JSONValue.null
        if let s = api.sync?.status {
            var o: [String: JSONValue] = [
                "sources": .array(s.sources.map { .string($0) }), "source": .string(s.source),
                "lastFetchAt": .int(s.lastFetchAt), "lastBlockAt": .int(s.lastBlockAt), "blocksSynced": .int(s.blocksSynced),
                "healthy": .bool(s.lastError == nil && s.lastFetchAt > 0),
            ]
            if let e = s.lastError { o["lastError"] = .string(e) }
            syncJSON = .object(o)
        }
        if let c = api.consensus?() ?? nil {
            var o: [String: JSONValue] = [
                "round": .int(Int64(c.round)), "leader": .string(c.leader), "highQCRound": .int(Int64(c.highQCRound)),
                "lastProgressAt": .int(c.lastProgressAt), "peersConnected": .array(c.peersConnected.map { .string($0) }),
                "validators": .int(c.validators), "quorum": .int(c.quorum), "epoch": .int(Int64(c.epoch)),
                "voter": .bool(c.voter), "down": .array(c.down.map { .string($0) }),
                "healthy": .bool(c.stalled == nil),
            ]
            if let why = c.stalled { o["stalled"] = .string(why) }
            consensusJSON = .object(o)
        }
        return JSONResponse.make(
            .object([
                "chainId": .string(node.chainId), "suite": .string(node.genesis.suite.rawValue),
                "nodeId": .string(node.config.nodeId), "mode": .string(mode),
                "consensus": consensusJSON, "sync": syncJSON,
                "features": .array([.string("stream"), .string("submission-stream")]),
                "height": .int(Int64(tip?.height ?? 0)), "lastBlockHash": .string((tip?.hash ?? .zero).hex),
                "lastBlockTime": .int(tip?.timestamp ?? 0), "lastCommitAt": .int(tip?.timestamp ?? 0),
                "genesisHash": .string(node.genesisHash.hex),
                "validators": .array(
                    config.validators.map { .object(["nodeId": .string($0.nodeId), "org": .string($0.org)]) }),
                "orgs": .array(config.orgs.map { .string($0.name) }),
                "configuration": .object([
                    "version": .int(Int64(config.version)), "epoch": .int(Int64(config.epoch)),
                    "hash": .string(config.hash.hex), "rolePolicy": .bool(config.hasRolePolicy),
                ]),
                "warnings": .array(GovernanceRoutes.warnings(config, now: ChainNode.nowMillis()).map(JSONValue.string)),
                "mempool": .object([
                    "size": .int(node.mempool.count), "capacity": .int(node.mempool.capacity),
                ]),
            ]))
    }

    /// solo, bft or observer.
    var mode: String { node.isObserver ? "observer" : node.genesis.validators.count == 1 ? "solo" : "bft" }

    func genesisDocument() throws -> Response {
        let data = try JSONEncoder().encode(node.genesis)
        return JSONResponse.make(try JSONParser().parse(Array(data)))
    }

    func submit(_ request: Request) async throws -> Response {
        try refuseWhenFull()
        let bytes = try await RequestInput.body(request, limit: Self.submissionLimit(node.config))
        let tx = try Self.parseSubmission(bytes, hasher: node.hasher)
        let wait = request.uri.queryParameters.get("wait")
        guard wait == nil || wait == "commit" else {
            throw ChainError(.invalidParameter, "wait must be \"commit\" when given")
        }
        guard wait == "commit" else {
            try await api.admission.submit(tx, envelope: bytes)
            return JSONResponse.make(status: .accepted, .object(["txid": .string(tx.txid)]))
        }
        return try await api.admitAndWait(tx, request, envelope: bytes)
    }

    /// Most transactions in one `POST /v1/txs/batch`.
    static let maxBatch = 1_000

    /// `POST /v1/txs/batch` `{"txs": [envelope, …]}`: admits each transaction as `POST /v1/txs`
    /// would, without waiting for commit. Answers 200 with one result per transaction, in order:
    /// `{"txid", "status": "accepted"}` or `{"txid"?, "error": {code, message}}`. A body that is
    /// not such a list is refused whole (400); when every transaction was refused for lack of room
    /// (`mempool_full`), the answer is 503 with `Retry-After`. Transactions beyond the room the
    /// mempool has when the batch is read are refused `mempool_full` before their signatures are
    /// checked (admission would refuse them after), as the submission stream refuses its messages
    /// beyond it: a batch of a thousand costs no more than the room it can take.
    func submitBatch(_ request: Request) async throws -> Response {
        var room = try Room(asking: node)
        // Read no more than the limit (16 MiB by default, about 25,000 typical transactions): a
        // body that claims more is refused before it is parsed or buffered further.
        let value = try await RequestInput.jsonBody(request, limit: node.config.maxBatchBytes, maxDepth: 5)
        guard let o = value.objectValue, o.count == 1, let list = o["txs"]?.arrayValue else {
            throw ChainError(.malformed, "request body must be {\"txs\": [ … ]}")
        }
        guard (1...Self.maxBatch).contains(list.count) else {
            throw ChainError(.malformed, "a batch holds 1–\(Self.maxBatch) transactions")
        }
        var results: [JSONValue?] = Array(repeating: nil, count: list.count)
        var parsed: [(index: Int, tx: SignedTransaction, envelope: [UInt8]?)] = []
        var full = 0
        for (index, item) in list.enumerated() {
            do throws(ChainError) {
                // Each item is taken from the parsed batch; only an observer, which forwards the
                // envelope, needs its bytes again.
                let tx = try TransactionSubmission.parse(item, hasher: node.hasher)
                do throws(ChainError) {
                    try room.take()
                } catch {
                    results[index] = Self.refused(txid: tx.txid, error)
                    full += 1
                    continue
                }
                parsed.append((index, tx, node.isObserver ? item.canonicalBytes : nil))
            } catch {
                results[index] = Self.refused(txid: nil, error)
            }
        }
        // Admitted as one batch: one check of their signatures.
        for (item, outcome) in zip(parsed, await api.admission.submit(parsed.map { ($0.tx, $0.envelope) })) {
            switch outcome {
            case .success: results[item.index] = Self.accepted(txid: item.tx.txid)
            case .failure(let e):
                let error = e as? ChainError ?? ChainError(.internalError, "\(e)")
                if error.code == .mempoolFull { full += 1 }
                results[item.index] = Self.refused(txid: item.tx.txid, error)
            }
        }
        if full == list.count {
            throw ChainError(.mempoolFull, "the mempool is full; no transaction of the batch was taken")
        }
        return JSONResponse.make(.object(["results": .array(results.map { $0! })]))
    }

    /// Most bytes of one submission's envelope (`POST /v1/txs`, a message of `/v1/txs/stream`):
    /// a body of `maxBodyBytes` in base64 with its certificate and signature.
    static func submissionLimit(_ config: NodeConfig) -> Int { config.maxBodyBytes * 2 + 64 * 1024 }

    /// One transaction's result in a batch or on the submission stream when it was taken:
    /// `{"txid", "status": "accepted"}`.
    static func accepted(txid: String) -> JSONValue {
        .object(["txid": .string(txid), "status": .string("accepted")])
    }

    /// One transaction's result when it was refused: `{"error": {code, message}, "txid"?}` (the
    /// txid once the envelope was read that far).
    static func refused(txid: String?, _ error: ChainError) -> JSONValue {
        var o: [String: JSONValue] = ["error": APIError.errorObject(error)]
        if let txid { o["txid"] = .string(txid) }
        return .object(o)
    }

    /// Under overload a validator refuses a submission (`mempool_full`, 503) before its body is
    /// read, parsed or hashed: every transaction of it would be refused for lack of room anyway, and
    /// at twice the sustainable rate most requests are refusals, so their cost is taken from the
    /// transactions being committed. An observer forwards to a validator, which decides.
    func refuseWhenFull() throws(ChainError) { _ = try Self.room(node) }

    /// `refuseWhenFull()` for `node` that says how many transactions it has room for (`Int.max`
    /// on an observer), without a copy of the routes' context: the submission stream refuses the
    /// messages it read beyond that room before reading them.
    static func room(_ node: ChainNode) throws(ChainError) -> Int {
        guard !node.isObserver else { return Int.max }
        do {
            return try node.mempool.room()
        } catch {
            // Counted as admission's refusals are (one per request: a batch is not read).
            node.metrics.admission(error)
            throw error
        }
    }

    /// The places a reader of many submissions at once (a batch, the stream's read-ahead) takes
    /// from: the mempool's room when it first asks, one place per submission. Those beyond it
    /// are refused `mempool_full` before they are verified (admission would refuse them after),
    /// counted as admission's refusals are. While the mempool is full every take asks again.
    struct Room {
        let node: ChainNode
        private var left: Int?

        /// Places that ask the mempool at the first take.
        init(_ node: ChainNode) { self.node = node }

        /// Places that asked now: `mempool_full` at once when there is none.
        init(asking node: ChainNode) throws(ChainError) {
            self.node = node
            left = try ChainRoutes.room(node)
        }

        /// Takes one place, or refuses.
        mutating func take() throws(ChainError) {
            let places: Int
            if let left { places = left } else { places = try ChainRoutes.room(node) }
            guard places > 0 else {
                let error = node.mempool.fullError
                node.metrics.admission(error)
                throw error
            }
            left = places - 1
        }
    }

    /// Parses `{"body", "signature", "signer"}` strictly (`TransactionSubmission.parse`).
    static func parseSubmission(_ bytes: [UInt8], hasher: ChainHasher) throws(ChainError) -> SignedTransaction {
        try TransactionSubmission.parse(bytes, hasher: hasher)
    }

    static func parseTxid(_ raw: String) throws(ChainError) -> Hash256 {
        guard Hex.isLowercase(raw, byteCount: 32), let h = Hash256(hex: raw) else {
            throw ChainError(.invalidParameter, "txid must be 64 lowercase hex characters")
        }
        return h
    }

    func transaction(_ raw: String) async throws -> Response {
        let id = try Self.parseTxid(raw)
        // The store, the mempool, then the store again: a block that commits between the first
        // two looks is in the store before its transactions leave the mempool, so an accepted
        // transaction is always found in one of the three (CI once saw a 404 for a transaction
        // answered 202 a moment before, when the two looks straddled its commit).
        for look in 0..<2 {
            if let t = try node.store.transaction(id) {
                let time = try node.store.header(at: t.height)?.timestamp
                return JSONResponse.make(JSONViews.transaction(t, blockTime: time))
            }
            if look == 0, node.mempool.contains(id) {
                return JSONResponse.make(.object(["txid": .string(raw), "status": .string("pending")]))
            }
        }
        // After both looks at the store: a transaction that committed is never reported expired.
        if node.mempool.isExpired(id) { throw Mempool.expiredError(id) }
        // An observer holds none of the transactions it forwarded: its validators say whether one
        // is waiting or was dropped for age; the store is looked at again after asking them.
        switch await api.admission.upstreamStatus(of: id) {
        case .pending?:
            if let t = try node.store.transaction(id) {
                return JSONResponse.make(
                    JSONViews.transaction(t, blockTime: try node.store.header(at: t.height)?.timestamp))
            }
            return JSONResponse.make(.object(["txid": .string(raw), "status": .string("pending")]))
        case .expired?: throw Mempool.expiredError(id)
        case .unknown?, nil: break
        }
        throw ChainError(.notFound, "no transaction \(raw)")
    }

    func proof(_ raw: String) throws -> Response {
        let id = try Self.parseTxid(raw)
        guard let proof = try api.proofJSON(id) else { throw ChainError(.notFound, "no committed transaction \(raw)") }
        return JSONResponse.make(proof)
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
