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

/// `GET /v1/epcis/events`: the EPCIS 2.0 query interface over everything the chain knows as
/// EPCIS: events captured through the `epcis` contract, and every step of the `crab` contract
/// exported as an EPCIS event (`EPCISQueryEngine` answers; tests run the same engine).
struct EPCISRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }

    /// Most captured events considered per query.
    static let maxCapturedScan = 200_000

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.get("events") { request, _ in try self.events(request) }
        return r
    }

    func events(_ request: Request) throws -> Response {
        var parameters: [String: String] = [:]
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
        let candidates =
            try CapturedEPCISEvents.candidates(events: store, state: store, limit: Self.maxCapturedScan) + crab.candidates
        let page = try EPCISQueryEngine.run(query, candidates: candidates, nowMillis: ChainNode.nowMillis())
        var headers = HTTPFields()
        if let token = page.nextPageToken {
            var next = parameters
            next["nextPageToken"] = token
            let q = next.sorted { $0.key < $1.key }.map { "\(Self.percent($0.key))=\(Self.percent($0.value))" }.joined(
                separator: "&")
            if let link = HTTPField.Name("Link") { headers[link] = "</v1/epcis/events?\(q)>; rel=\"next\"" }
            if let name = HTTPField.Name("GS1-Next-Page-Token") { headers[name] = token }
        }
        if let v = HTTPField.Name("GS1-EPCIS-Version") { headers[v] = "2.0.0" }
        if let v = HTTPField.Name("GS1-CBV-Version") { headers[v] = "2.0.0" }
        return JSONResponse.make(page.document, headers: headers)
    }

    static func percent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
