import ChainCore
import CrabTraceContract
import Foundation
import Hummingbird
import Node
import Storage

/// What the route groups share: the node, the one admission path, and the node's optional parts.
struct APIContext: Sendable {
    /// The node.
    let node: ChainNode
    /// How transactions enter the chain through this node.
    let admission: Admission
    /// Longest `wait=commit` wait.
    let maxWait: Duration
    /// Consensus health, under BFT.
    let consensus: (@Sendable () -> ConsensusStatus?)?
    /// An observer's block sync.
    let sync: BlockSyncService?
    /// Signs consumers' crab transactions; nil when this node records no scans and takes no complaints.
    let gateway: CrabGateway?
    /// Checks signed requests of the regulator's and association's routes.
    let authenticator: RequestAuthenticator
    /// Console accounts; nil when this node serves no console.
    let console: ConsoleAccounts?
    /// The crab steps exported as EPCIS, per committed height.
    let crabEPCIS: CrabEPCISCache
    /// Rate limits of the public crab routes.
    let limits: PublicRateLimits
    /// Pending one-time codes of the consumer coupon flows.
    let codes: OneTimeCodes
    /// GS1's EPCIS XML schemas; nil: no XML captures.
    let xmlSchemas: EPCISXMLSchemas?
    /// What `GET /metrics` exports; nil when the node exports no metrics.
    var metricsExport: MetricsExport? = nil

    /// Admits `tx` and answers `{txid, status, height, index, error?}` once committed (or
    /// `pending` after the request's `timeout`, at most `maxWait`).
    func admitAndWait(_ tx: SignedTransaction, _ request: Request, envelope: [UInt8]? = nil) async throws -> Response {
        var timeout = maxWait
        if let raw = request.uri.queryParameters.get("timeout") {
            guard let ms = Int(raw), ms > 0 else { throw ChainError(.invalidParameter, "timeout must be milliseconds > 0") }
            timeout = min(maxWait, .milliseconds(ms))
        }
        guard let outcome = try await admission.submitAndWait(tx, envelope: envelope, timeout: timeout) else {
            return JSONResponse.make(status: .accepted, .object(["txid": .string(tx.txid), "status": .string("pending")]))
        }
        var o: [String: JSONValue] = [
            "txid": .string(tx.txid), "status": .string(outcome.error == nil ? "committed" : "failed"),
            "height": .int(Int64(outcome.height)), "index": .int(outcome.index),
        ]
        if let e = outcome.error { o["error"] = APIError.errorObject(e) }
        return JSONResponse.make(.object(o))
    }

    /// The inclusion proof of a committed transaction, as `GET /v1/txs/{txid}/proof` answers it; nil when not committed.
    func proofJSON(_ id: Hash256) throws -> JSONValue? {
        guard let t = try node.store.place(of: id), let block = try node.store.block(at: t.height) else { return nil }
        let hasher = node.hasher
        let leaves = block.txids.map { MerkleTree.leafHash($0.bytes, hasher: hasher) }
        guard let path = MerkleTree.inclusionProof(index: t.index, leafHashes: leaves, hasher: hasher),
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
            "hashAlgorithm": .string(hasher.name),
            "headerHash": .string(block.hash.hex),
            "finality": .object([
                "kind": .string(node.genesis.validators.count == 1 ? "solo" : "quorum"), "quorum": .int(node.genesis.quorum),
                "signedMessage": .string("XIANGCHAIN-BLOCK-V1 || headerHash"),
                "signatures": JSONViews.signatures(block.signatures),
            ]),
            "status": .string(t.result.succeeded ? "committed" : "failed"),
            // The validator-set changes up to the block's epoch, each signed by the set before it:
            // with them the proof checks from the genesis alone.
            "epochs": .array(try node.epochProof(forHeight: t.height)),
        ])
    }
}

/// Reading request bodies and query parameters: size limits, strict JSON, allowed members and
/// bounded integers, the same for every route.
enum RequestInput {
    /// The query's parameters (the first of repeated names), percent-decoded (`+` is a space);
    /// `invalid_parameter` for a percent-escape that is malformed or does not decode to UTF-8,
    /// rather than a silent replacement character.
    static func strictQuery(_ request: Request) throws(ChainError) -> [String: String] {
        var out: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0], what: "a parameter name")
            let value = try decode(parts.count > 1 ? parts[1] : "", what: "parameter \(name.prefix(32))")
            if out[name] == nil { out[name] = value }
        }
        return out
    }

    static func decode(_ raw: Substring, what: String) throws(ChainError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.utf8.count)
        var it = raw.utf8.makeIterator()
        func hex(_ c: UInt8?) -> UInt8? {
            switch c {
            case let c? where c >= 0x30 && c <= 0x39: return c - 0x30
            case let c? where c >= 0x41 && c <= 0x46: return c - 0x41 + 10
            case let c? where c >= 0x61 && c <= 0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let hi = hex(it.next()), let lo = hex(it.next()) else {
                    throw ChainError(.invalidParameter, "\(what): malformed percent-escape")
                }
                bytes.append(hi << 4 | lo)
            } else {
                bytes.append(c == UInt8(ascii: "+") ? 0x20 : c)
            }
        }
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw ChainError(.invalidParameter, "\(what) is not valid UTF-8")
        }
        return s
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

    /// `true`, `false` or absent (false).
    static func flag(_ raw: String?, _ name: String) throws(ChainError) -> Bool {
        switch raw {
        case nil, "false": return false
        case "true": return true
        default: throw ChainError(.invalidParameter, "\(name) must be true or false")
        }
    }

    /// A sequence number ≥ 0 (0 when absent).
    static func sequence(_ raw: String?, _ name: String) throws(ChainError) -> Int64 {
        guard let raw else { return 0 }
        guard let v = Int64(raw), v >= 0 else { throw ChainError(.invalidParameter, "\(name) must be an integer ≥ 0") }
        return v
    }

    /// A page size of 1…`max` (100 when absent).
    static func limit(_ raw: String?, max: Int) throws(ChainError) -> Int {
        guard let raw else { return min(100, max) }
        guard let v = Int(raw), (1...max).contains(v) else {
            throw ChainError(.invalidParameter, "limit must be 1–\(max)")
        }
        return v
    }
}
