import Accounts
import ChainCore
import EPCIS
import EPCISContract
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import NIOCore
import Node
import Storage
import Synchronization

/// The GS1 EPCIS 2.0 REST binding under `/v1/epcis` (`docs/epcis.md`, "REST binding"), mapped onto
/// signed capture: `POST /capture` (JSON-LD or XML, 202 and a capture job), `GET /capture`,
/// `GET /capture/{captureID}`, `POST /events` (one event, 201), `GET /events/{eventID}`,
/// `GET /eventTypes`, `GET /eventTypes/{eventType}/events`, `GET /epcs/{epc}/events`,
/// `GET /bizSteps`, `GET /bizSteps/{bizStep}/events`, `GET /dispositions`, and `GET /` (the
/// top-level resources). Capture needs a console account's session (`Authorization: Bearer`):
/// the node signs the `epcis.capture` transaction with the account's key, exactly as the
/// console's `POST /v1/console/tx` does, so every captured event names its signer.
///
/// A capture job is the transaction: its id is the txid, its state is read from the chain (and
/// the mempool while pending), so it survives restarts and any node answers it. Events already on
/// chain are reported per event as duplicates (the contract's `duplicates: "skip"`), not as a
/// failure of the document; `GS1-Capture-Error-Behaviour: proceed` records the events that pass
/// and reports the others (`errors: "proceed"`); `rollback` (the default) fails them all.
struct EPCISBinding: Sendable {
    let api: APIContext
    let console: ConsoleRoutes
    let query: EPCISRoutes
    let jobs: CaptureJobs
    var node: ChainNode { api.node }

    /// The EPCIS and CBV versions this node speaks (response headers and the `GS1-EPCIS-Version` check).
    static let epcisVersion = "2.0.0"
    static let cbvVersion = "2.0.0"
    /// Largest XML capture document, bytes (its JSON-LD form must still fit one transaction).
    static let maxXMLBytes = 1 << 20
    /// The JSON-LD context every captured document names.
    static let context = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    /// The event types of EPCIS 2.0.
    static let eventTypes = ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"]

    func add(to r: RouteCollection<NodeRequestContext>) {
        r.get("/") { request, _ in try self.versioned(request) { self.topLevel() } }
        r.post("capture") { request, _ in try await self.capture(request) }
        r.get("capture") { request, _ in try self.versioned(request) { try self.listJobs(request) } }
        r.get("capture/:captureID") { request, context in
            try self.versioned(request) { try self.job(context.parameters.require("captureID")) }
        }
        r.post("events") { request, _ in try await self.captureOne(request) }
        r.get("events/:eventID") { request, context in
            try await self.filtered(request, ["EQ_eventID": try Self.segment(context, "eventID")], single: true)
        }
        r.get("eventTypes") { request, _ in
            try self.versioned(request) { Self.list(Self.eventTypes) }
        }
        r.get("eventTypes/:eventType/events") { request, context in
            let type = try Self.segment(context, "eventType")
            guard Self.eventTypes.contains(type) else {
                throw ChainError(.notFound, "\"\(type.prefix(64))\" is not an EPCIS event type")
            }
            return try await self.filtered(request, ["eventType": type])
        }
        r.get("epcs/:epc/events") { request, context in
            try await self.filtered(request, ["MATCH_epc": try Self.segment(context, "epc")])
        }
        r.get("bizSteps") { request, _ in
            try self.versioned(request) { Self.list(CBVVocabulary.bizStep.names.sorted()) }
        }
        r.get("bizSteps/:bizStep/events") { request, context in
            try await self.filtered(request, ["EQ_bizStep": try Self.segment(context, "bizStep")])
        }
        r.get("dispositions") { request, _ in
            try self.versioned(request) { Self.list(CBVVocabulary.disposition.names.sorted()) }
        }
    }

    // MARK: versions and shapes

    /// Refuses a `GS1-EPCIS-Version` other than 2.x (`epcis_unsupported_version`, 406) and adds
    /// the version headers to the answer.
    func versioned(_ request: Request, _ body: () throws -> Response) throws -> Response {
        try Self.checkVersion(request)
        var response = try body()
        Self.addVersionHeaders(&response.headers)
        return response
    }

    static func checkVersion(_ request: Request) throws(ChainError) {
        for name in ["GS1-EPCIS-Version", "GS1-EPCIS-Min", "GS1-EPCIS-Max"] {
            guard let field = HTTPField.Name(name), let value = request.headers[field] else { continue }
            let v = value.trimmingCharacters(in: .whitespaces)
            // Min ≤ 2.0.0 ≤ Max; an exact version must be 2.x.
            let ok: Bool
            switch name {
            case "GS1-EPCIS-Min": ok = v.hasPrefix("1.") || v.hasPrefix("2.0") || v == "2"
            case "GS1-EPCIS-Max": ok = v.hasPrefix("2.") || v == "2" || (Int(v.split(separator: ".").first ?? "") ?? 0) > 2
            default: ok = v.hasPrefix("2.") || v == "2"
            }
            guard ok else {
                throw ChainError(
                    .epcisUnsupportedVersion,
                    "\(name) \"\(v.prefix(32))\" cannot be served: this node speaks EPCIS \(epcisVersion)")
            }
        }
    }

    static func addVersionHeaders(_ headers: inout HTTPFields) {
        if let v = HTTPField.Name("GS1-EPCIS-Version") { headers[v] = epcisVersion }
        if let v = HTTPField.Name("GS1-CBV-Version") { headers[v] = cbvVersion }
    }

    static func list(_ items: [String]) -> Response {
        JSONResponse.make(
            .object([
                "@context": .array([.string(context)]), "type": .string("Collection"),
                "member": .array(items.map(JSONValue.string)),
            ]))
    }

    func topLevel() -> Response {
        Self.list(["capture", "events", "eventTypes", "epcs", "bizSteps", "dispositions"])
    }

    /// A path segment, percent-decoded, at most 2,048 characters.
    static func segment(_ context: NodeRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard raw.utf8.count <= 2048, let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw ChainError(.invalidParameter, "\(name) is not a valid percent-encoded path segment")
        }
        return decoded
    }

    // MARK: queries

    /// `GET /events` with `fixed` added to the request's own parameters (which may not repeat
    /// them). `single`: the one event (404 when none).
    func filtered(_ request: Request, _ fixed: [String: String], single: Bool = false) async throws -> Response {
        try Self.checkVersion(request)
        guard single else { return try await query.bounded(request, fixed: fixed) }
        let page = try await query.gated { try query.page(request, fixed: fixed) }
        let events = page.page.document["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue ?? []
        guard let first = events.first(where: { $0["errorDeclaration"] == nil }) ?? events.first else {
            throw ChainError(.notFound, "no event with eventID or hash \(fixed["EQ_eventID"]?.prefix(128) ?? "")")
        }
        var response = JSONResponse.make(first)
        Self.addVersionHeaders(&response.headers)
        return response
    }

    // MARK: capture

    /// `POST /capture`: a JSON-LD `EPCISDocument`/`EPCISQueryDocument` or an EPCIS 2.0/1.2 XML
    /// document; 202 with `Location: /v1/epcis/capture/{captureID}` once admitted.
    func capture(_ request: Request) async throws -> Response {
        try Self.checkVersion(request)
        let behaviour = try Self.behaviour(request)
        let document = try await Self.document(request, limit: node.config.maxBodyBytes, schemas: api.xmlSchemas)
        return try await console.audited(request, "epcis.capture", roles: AccountStore.assignableRoles, detail: behaviour) {
            session in
            var args: [String: JSONValue] = ["document": document, "duplicates": .string("skip")]
            if behaviour == "proceed" { args["errors"] = .string("proceed") }
            let tx = try session.identity.transaction(
                chain: node.chainId, contract: "epcis", method: "capture", args: .object(args),
                timestamp: ChainNode.nowMillis())
            guard tx.body.count <= node.config.maxBodyBytes else {
                throw ChainError(
                    .tooLarge,
                    "the capture document is \(tx.body.count) bytes as a transaction; at most \(node.config.maxBodyBytes): split it"
                )
            }
            try await api.admission.submit(tx)
            jobs.add(
                CaptureJobs.Entry(
                    id: tx.txid, org: session.account.org, username: session.account.username,
                    createdMillis: ChainNode.nowMillis()))
            var response = JSONResponse.make(status: .accepted, try jobJSON(tx.id, transaction: tx))
            response.headers[.location] = "/v1/epcis/capture/\(tx.txid)"
            Self.addVersionHeaders(&response.headers)
            Self.addCaptureLimits(&response.headers, node: node)
            return response
        }
    }

    /// `POST /events`: one event (with its own `@context`), captured and committed before the
    /// answer: 201 with `Location: /v1/epcis/events/{hash}`, 409 when it is already on chain.
    func captureOne(_ request: Request) async throws -> Response {
        try Self.checkVersion(request)
        let event = try await RequestInput.jsonBody(request, limit: node.config.maxBodyBytes, maxDepth: 64)
        guard var e = event.objectValue, e["type"]?.stringValue.map(Self.eventTypes.contains) == true else {
            throw ChainError(.epcisInvalid, "the body must be one EPCIS event object with a type")
        }
        let eventContext = e.removeValue(forKey: "@context")
        var context: [JSONValue] = [.string(Self.context)]
        for item in eventContext.map({ $0.arrayValue ?? [$0] }) ?? [] where item != .string(Self.context) { context.append(item) }
        let document = JSONValue.object([
            "@context": .array(context), "type": .string("EPCISDocument"), "schemaVersion": .string("2.0"),
            "creationDate": .string(Self.timestamp(ChainNode.nowMillis())),
            "epcisBody": .object(["eventList": .array([.object(e)])]),
        ])
        let hash = try EPCISDocument(document).events.first?.hash ?? ""
        return try await console.audited(request, "epcis.event", roles: AccountStore.assignableRoles, detail: hash) { session in
            let tx = try session.identity.transaction(
                chain: node.chainId, contract: "epcis", method: "capture", args: .object(["document": document]),
                timestamp: ChainNode.nowMillis())
            guard let outcome = try await api.admission.submitAndWait(tx, timeout: api.maxWait) else {
                // Not committed within the wait: the capture job tells the rest.
                var response = JSONResponse.make(status: .accepted, try jobJSON(tx.id, transaction: tx))
                response.headers[.location] = "/v1/epcis/capture/\(tx.txid)"
                Self.addVersionHeaders(&response.headers)
                return response
            }
            if let error = outcome.error { throw error }
            var response = JSONResponse.make(
                status: .created, .object(["eventID": .string(hash), "captureID": .string(tx.txid)]))
            response.headers[.location] = "/v1/epcis/events/\(Self.pathEscape(hash))"
            Self.addVersionHeaders(&response.headers)
            return response
        }
    }

    /// `GS1-Capture-Error-Behaviour`: `rollback` (default) or `proceed`.
    static func behaviour(_ request: Request) throws(ChainError) -> String {
        guard let name = HTTPField.Name("GS1-Capture-Error-Behaviour"), let raw = request.headers[name] else { return "rollback" }
        let v = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard v == "rollback" || v == "proceed" else {
            throw ChainError(.invalidParameter, "GS1-Capture-Error-Behaviour must be rollback or proceed")
        }
        return v
    }

    /// The capture document of the request as JSON-LD: JSON as given, XML read into the JSON-LD
    /// model (`EPCISXML`) with its namespaces in the `@context`. Either is validated whole here
    /// (400 `epcis_invalid` before anything is signed); the contract validates it again.
    static func document(_ request: Request, limit: Int, schemas: EPCISXMLSchemas?) async throws -> JSONValue {
        let type = (request.headers[.contentType] ?? "application/json").lowercased()
        if type.hasPrefix("application/xml") || type.hasPrefix("text/xml") {
            guard let schemas else {
                throw ChainError(
                    .unsupportedMediaType,
                    "this node takes XML captures only with GS1's EPCIS XML schemas configured (epcisXMLSchemas in config.json); send JSON-LD"
                )
            }
            let bytes = try await RequestInput.body(request, limit: maxXMLBytes)
            // Our own bounded reader first (it refuses DTDs with an internal subset, so libxml2
            // never sees an entity to expand), then GS1's schema, then the mapping.
            let root = try XMLReader.parse(bytes)
            try schemas.check(bytes, namespace: root.namespace)
            let events = try EPCISXML.events(root)
            guard !events.isEmpty else { throw ChainError(.epcisInvalid, "xml: the document has no events") }
            guard events.count <= EPCISLimits().maxEvents else {
                throw ChainError(.epcisInvalid, "xml: \(events.count) events; at most \(EPCISLimits().maxEvents) per capture")
            }
            var prefixes: [String: JSONValue] = [:]
            for event in events {
                // The XML's own schema namespaces (epcis, sbdh, xsi) are markup, not extension vocabularies.
                for (prefix, uri) in event.namespaces.prefixes
                where EPCISNamespaces.standard[prefix] != uri && !uri.hasPrefix("urn:epcglobal:")
                    && uri != "http://www.w3.org/2001/XMLSchema-instance"
                    && !uri.hasPrefix("http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader")
                {
                    prefixes[prefix] = .string(uri)
                }
            }
            var context: [JSONValue] = [.string(Self.context)]
            if !prefixes.isEmpty { context.append(.object(prefixes)) }
            let doc = JSONValue.object([
                "@context": .array(context), "type": .string("EPCISDocument"), "schemaVersion": .string("2.0"),
                "creationDate": .string(timestamp(ChainNode.nowMillis())),
                "epcisBody": .object(["eventList": .array(events.map { .object($0.json) })]),
            ])
            _ = try EPCISDocument(doc)
            return doc
        }
        guard type.hasPrefix("application/json") || type.hasPrefix("application/ld+json") else {
            throw ChainError(
                .unsupportedMediaType,
                "capture takes application/json, application/ld+json or application/xml, not \(type.prefix(64))")
        }
        let doc = try await RequestInput.jsonBody(request, limit: limit, maxDepth: 64)
        _ = try EPCISDocument(doc)
        return doc
    }

    static func addCaptureLimits(_ headers: inout HTTPFields, node: ChainNode) {
        if let n = HTTPField.Name("GS1-EPCIS-Capture-Limit") { headers[n] = String(EPCISLimits().maxEvents) }
        if let n = HTTPField.Name("GS1-EPCIS-Capture-File-Size-Limit") { headers[n] = String(node.config.maxBodyBytes) }
    }

    // MARK: capture jobs

    /// `GET /capture/{captureID}`: the job's state from the chain (committed or failed), the
    /// mempool (running) or, for a job this node admitted that is in neither, its loss.
    func job(_ raw: String) throws -> Response {
        let id = try ChainRoutes.parseTxid(raw)
        // The store, the mempool, then the store again (as `GET /v1/txs/{txid}`): a job that
        // commits between the first two looks is not reported lost.
        for look in 0..<2 {
            if let stored = try node.store.transaction(id) {
                guard stored.contract == "epcis", stored.method == "capture" else {
                    throw ChainError(.notFound, "transaction \(id.hex) is not an EPCIS capture")
                }
                let header = try node.store.header(at: stored.height)
                return JSONResponse.make(
                    try jobJSON(id, transaction: stored.transaction, result: stored.result, finished: header?.timestamp))
            }
            if look == 0, let pending = node.mempool.transaction(id) {
                return JSONResponse.make(try jobJSON(id, transaction: pending.transaction))
            }
        }
        if let entry = jobs.entry(id.hex) {
            // Admitted here, gone from the mempool and not on chain: expired (the mempool says so
            // while it remembers the id) or dropped.
            let lost =
                node.mempool.isExpired(id)
                ? ChainError(
                    .txExpired,
                    "the capture transaction waited past the timestamp tolerance and was dropped without being committed; capture again"
                )
                : ChainError(.notFound, "the capture transaction left the mempool without being committed; capture again")
            return JSONResponse.make(
                .object([
                    "captureID": .string(entry.id), "createdAt": .string(Self.timestamp(entry.createdMillis)),
                    "running": .bool(false),
                    "success": .bool(false), "captureErrorBehaviour": .string("rollback"),
                    "errors": .array([Self.problem(lost)]),
                ]))
        }
        if node.mempool.isExpired(id) {
            // Admitted here through `POST /events` (which keeps no job entry), then dropped for age.
            throw ChainError(
                .txExpired,
                "the capture transaction waited past the timestamp tolerance and was dropped without being committed; capture again"
            )
        }
        throw ChainError(.notFound, "no capture job \(id.hex) on this node")
    }

    /// `GET /capture`: the capture jobs this node admitted for the caller's account, newest first.
    func listJobs(_ request: Request) throws -> Response {
        let (_, session) = try console.consoleSession(request)
        let entries = jobs.list(org: session.account.org, username: session.account.username)
        return JSONResponse.make(
            .object([
                "@context": .array([.string(Self.context)]), "type": .string("Collection"),
                "member": .array(entries.map { .string("/v1/epcis/capture/\($0.id)") }),
            ]))
    }

    /// The GS1 `CaptureJob` of a capture transaction, `result` nil while it is pending.
    func jobJSON(_ id: Hash256, transaction: SignedTransaction, result: TransactionResult? = nil, finished: Int64? = nil) throws
        -> JSONValue
    {
        let body = try TransactionBody.parse(transaction.body)
        let behaviour = body.args["errors"]?.stringValue == "proceed" ? "proceed" : "rollback"
        var o: [String: JSONValue] = [
            "captureID": .string(id.hex), "createdAt": .string(Self.timestamp(body.timestamp)),
            "captureErrorBehaviour": .string(behaviour),
        ]
        guard let result else {
            o["running"] = .bool(true)
            o["success"] = .bool(true)
            o["errors"] = .array([])
            return .object(o)
        }
        o["running"] = .bool(false)
        if let finished { o["finishedAt"] = .string(Self.timestamp(finished)) }
        if let error = result.error {
            o["success"] = .bool(false)
            o["errors"] = .array([Self.problem(error)])
            return .object(o)
        }
        var errors: [JSONValue] = []
        var duplicates: [JSONValue] = []
        var captured: [JSONValue] = []
        for event in result.events where event.contract == "epcis" {
            let data: JSONValue? = event.data
            switch event.name {
            case "epcis_event": captured.append(data?["hash"] ?? .null)
            case "epcis_duplicate": duplicates.append(data ?? .null)
            case "epcis_rejected":
                guard
                    case .object(var problem)? = data.map({ d in
                        Self.problem(ChainError(ErrorCode(named: d["code"]?.stringValue ?? ""), d["message"]?.stringValue ?? ""))
                    })
                else { break }
                problem["index"] = data?["index"] ?? .null
                problem["eventID"] = data?["eventID"] ?? data?["hash"] ?? .null
                problem["code"] = data?["code"] ?? .null
                errors.append(.object(problem))
            default: break
            }
        }
        // Duplicates are not errors: the events are on chain (GS1: capturing an event twice is
        // reported per event, the document is not failed for it).
        o["success"] = .bool(errors.isEmpty)
        o["errors"] = .array(errors)
        o["captured"] = .array(captured)
        o["duplicates"] = .array(duplicates)
        return .object(o)
    }

    // MARK: shapes

    /// RFC 7807 problem details with the EPCIS exception type, plus this API's own `error` object.
    static func problem(_ error: ChainError) -> JSONValue {
        .object([
            "type": .string(exceptionType(error.code)), "title": .string(error.message),
            "status": .int(Int64(APIError.status(for: error.code).code)), "error": APIError.errorObject(error),
        ])
    }

    /// The EPCIS exception a code corresponds to (EPCIS 2.0 §8.2.7 and the REST binding).
    static func exceptionType(_ code: ErrorCode) -> String {
        switch code {
        case .epcisBadQuery: return "epcisException:QueryParameterException"
        case .epcisQueryTooLarge: return "epcisException:QueryTooLargeException"
        case .notFound: return "epcisException:NoSuchResourceException"
        case .unauthenticated, .forbidden, .roleNotAllowed, .roleNotPermitted: return "epcisException:SecurityException"
        case .epcisUnsupportedVersion: return "epcisException:NotAcceptableException"
        case .epcisQueryBusy: return "epcisException:ImplementationException"
        case .tooLarge: return "epcisException:CaptureLimitExceededException"
        case .unsupportedMediaType: return "epcisException:UnsupportedMediaTypeException"
        default:
            switch code.kind {
            case .fault, .unavailable, .peer: return "epcisException:ImplementationException"
            default: return "epcisException:ValidationException"
            }
        }
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-12-05T08:00:00.123Z`.
    static func timestamp(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(
            Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    static func pathEscape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// Turns errors of the EPCIS routes into RFC 7807 problem details (`application/problem+json`)
/// with the EPCIS exception `type`, keeping this API's `error: {code, message}` member.
struct EPCISProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let e as ChainError {
            var response = APIError.response(e)
            response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: EPCISBinding.problem(e).canonicalBytes))
            response.headers[.contentType] = "application/problem+json; charset=utf-8"
            EPCISBinding.addVersionHeaders(&response.headers)
            return response
        }
    }
}

/// The capture jobs this node admitted (for `GET /capture`), the newest `capacity`.
final class CaptureJobs: Sendable {
    struct Entry: Sendable {
        let id: String
        let org: String
        let username: String
        let createdMillis: Int64
    }
    /// Entries in arrival order (with their sequence number), and each id's latest one.
    private let entries = Mutex<(order: [(seq: Int, entry: Entry)], byID: [String: (seq: Int, entry: Entry)], next: Int)>(
        ([], [:], 0))
    let capacity: Int

    init(capacity: Int = 2000) { self.capacity = capacity }

    func add(_ entry: Entry) {
        entries.withLock { e in
            e.order.append((e.next, entry))
            e.byID[entry.id] = (e.next, entry)
            e.next += 1
            guard e.order.count > capacity else { return }
            for old in e.order.prefix(e.order.count - capacity) where e.byID[old.entry.id]?.seq == old.seq {
                e.byID[old.entry.id] = nil
            }
            e.order.removeFirst(e.order.count - capacity)
        }
    }

    func entry(_ id: String) -> Entry? { entries.withLock { $0.byID[id]?.entry } }

    func list(org: String, username: String) -> [Entry] {
        entries.withLock { $0.order.map(\.entry).filter { $0.org == org && $0.username == username }.reversed() }
    }
}
