import ChainCore
import CrabTraceContract
import EPCIS
import EPCISContract
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Node
import Storage
import Synchronization

/// `GET /v1/epcis/events`: the EPCIS 2.0 query interface over everything the chain knows as
/// EPCIS: events captured through the `epcis` contract, and every step of the `crab` contract
/// exported as an EPCIS event (`EPCISQueryEngine` answers; tests run the same engine).
struct EPCISRoutes: Sendable {
    let api: APIContext
    /// Session checks of the capture routes (the REST binding signs with the account's key).
    let console: ConsoleRoutes
    var node: ChainNode { api.node }

    /// Most captured events considered per query (`epcisMaxScannedEvents` of the node config).
    var maxCapturedScan: Int { max(1, node.config.epcisMaxScannedEvents) }

    /// Most EPCIS queries running at once; beyond, `epcis_query_busy` (503).
    static let maxConcurrentQueries = 2
    let gate = QueryGate()
    /// Capture jobs admitted through this node (the REST binding's `GET /capture`).
    let jobs = CaptureJobs()

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.add(middleware: EPCISProblemMiddleware())
        r.get("events") { request, _ in
            try EPCISBinding.checkVersion(request)
            return try await self.bounded(request)
        }
        EPCISBinding(api: api, console: console, query: self, jobs: jobs).add(to: r)
        return r
    }

    /// A query reads and filters up to `maxCapturedScan` events: at most `maxConcurrentQueries`
    /// at once, each on a dispatch thread, so that anonymous queries cannot starve the
    /// cooperative pool that consensus and the other routes share.
    func bounded(_ request: Request, fixed: [String: String] = [:]) async throws -> Response {
        try await gated { try self.events(request, fixed: fixed) }
    }

    /// Runs `work` on a dispatch thread when fewer than `maxConcurrentQueries` run; `epcis_query_busy` otherwise.
    func gated<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard gate.running.add(1, ordering: .relaxed).newValue <= Self.maxConcurrentQueries else {
            _ = gate.running.subtract(1, ordering: .relaxed)
            throw ChainError(.epcisQueryBusy, "the node runs \(Self.maxConcurrentQueries) EPCIS queries already; retry shortly")
        }
        defer { _ = gate.running.subtract(1, ordering: .relaxed) }
        return try await OffPool.run(work)
    }

    /// The query of the request's parameters plus `fixed` (a path's filter, which the query
    /// string may not give again), as a response with the paging and version headers.
    func events(_ request: Request, fixed: [String: String] = [:]) throws -> Response {
        let (page, parameters) = try self.page(request, fixed: fixed)
        var headers = HTTPFields()
        if let token = page.nextPageToken {
            var next = parameters
            next["nextPageToken"] = token
            let q = next.sorted { $0.key < $1.key }.map { "\(Self.percent($0.key))=\(Self.percent($0.value))" }.joined(
                separator: "&")
            if let link = HTTPField.Name("Link") { headers[link] = "</v1/epcis/events?\(q)>; rel=\"next\"" }
            if let name = HTTPField.Name("GS1-Next-Page-Token") { headers[name] = token }
        }
        EPCISBinding.addVersionHeaders(&headers)
        return JSONResponse.make(page.document, headers: headers)
    }

    /// One page of the query of the request's parameters plus `fixed`, and the parameters.
    func page(_ request: Request, fixed: [String: String] = [:]) throws -> (
        page: EPCISQueryEngine.Page, parameters: [String: String]
    ) {
        var parameters: [String: String] = fixed
        for (key, value) in request.uri.queryParameters {
            guard parameters[String(key)] == nil else {
                throw ChainError(.epcisBadQuery, "query parameter \(key) is given twice")
            }
            parameters[String(key)] = String(value)
        }
        let query = try EPCISQuery(parameters: parameters)
        let store = node.store
        let height = try store.tip()?.height ?? 0
        let queries = CrabQueries(state: store, config: CrabTraceConfig(resolver: node.config.resolver))
        let crab = try api.crabEPCIS.export(at: height) { try CrabEPCISEvents.export(queries) }
        // One more than the limit is read, to tell "all of them" from "cut off": a cut-off
        // answer would be silently wrong, so it is refused instead.
        var captured = try CapturedEPCISEvents.candidates(events: store, state: store, limit: maxCapturedScan + 1)
        if captured.count > maxCapturedScan {
            captured.removeAll()
            throw ChainError(
                .epcisQueryTooLarge,
                "this chain holds more than \(maxCapturedScan) captured EPCIS events, more than one query may consider; narrow the query (GE_recordTime)"
            )
        }
        let candidates = captured + crab.candidates
        return (try EPCISQueryEngine.run(query, candidates: candidates, nowMillis: ChainNode.nowMillis()), parameters)
    }

    static func percent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
