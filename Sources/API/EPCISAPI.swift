import ChainCore
import CrabTraceContract
import EPCIS
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Node
import Storage
import Synchronization

/// `GET /v1/epcis/events`: the EPCIS 2.0 query interface over everything the chain knows as
/// EPCIS: events captured through the `epcis` contract, and every step of the `crab` contract
/// exported as an EPCIS event.
extension ChainAPI {
    /// Most events considered per query (captured and exported together).
    static let maxEPCISScan = 200_000

    /// One candidate event: what queries match on, and how to load the full event.
    struct EPCISCandidate {
        let summary: EPCISEventSummary
        let record: () throws -> JSONValue?
    }

    func epcisEvents(_ request: Request) throws -> Response {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            guard parameters[String(key)] == nil else {
                throw ChainError(.epcisBadQuery, "query parameter \(key) is given twice")
            }
            parameters[String(key)] = String(value)
        }
        let query = try EPCISQuery(parameters: parameters)
        var matched: [EPCISCandidate] = []
        let store = node.store
        for e in try store.events(contract: "epcis", name: "epcis_event", limit: Self.maxEPCISScan) {
            guard let json = try? JSONParser().parse(Array(e.data.utf8)), let s = EPCISEventSummary(json: json), query.matches(s)
            else { continue }
            matched.append(
                EPCISCandidate(summary: s, record: { try store.read("epcis/" + s.key).map { try JSONParser().parse($0) } }))
        }
        for c in try crabEPCISEvents() where query.matches(c.summary) { matched.append(c) }
        matched.sort { ($0.summary.eventTime, $0.summary.hash) < ($1.summary.eventTime, $1.summary.hash) }
        let page = matched.dropFirst(query.offset).prefix(query.perPage)
        let records = try page.compactMap { try $0.record() }
        let document = EPCISQueryDocument.build(records: records, createdMillis: ChainNode.nowMillis())
        var headers = HTTPFields()
        let end = query.offset + page.count
        if end < matched.count {
            var next = parameters
            next["nextPageToken"] = String(end)
            let q = next.sorted { $0.key < $1.key }.map { "\(Self.percent($0.key))=\(Self.percent($0.value))" }.joined(
                separator: "&")
            if let link = HTTPField.Name("Link") { headers[link] = "</v1/epcis/events?\(q)>; rel=\"next\"" }
            if let token = HTTPField.Name("GS1-Next-Page-Token") { headers[token] = String(end) }
        }
        if let v = HTTPField.Name("GS1-EPCIS-Version") { headers[v] = "2.0.0" }
        if let v = HTTPField.Name("GS1-CBV-Version") { headers[v] = "2.0.0" }
        return JSONResponse.make(document, headers: headers)
    }

    /// Every `crab` step as an EPCIS event, with its CBV 2.0 event hash. Exporting and hashing the
    /// whole history is done once per committed height, not on every query.
    func crabEPCISEvents() throws -> [EPCISCandidate] {
        let height = try node.store.tip()?.height ?? 0
        let events: [(summary: EPCISEventSummary, record: JSONValue)]
        if let cached = crabEPCIS.events(at: height) {
            events = cached
        } else {
            events = try exportCrabEPCIS()
            crabEPCIS.store(events, at: height)
        }
        return events.map { e in EPCISCandidate(summary: e.summary, record: { e.record }) }
    }

    func exportCrabEPCIS() throws -> [(summary: EPCISEventSummary, record: JSONValue)] {
        var entries: [HistoryEntry] = []
        var after: String?
        while entries.count < Self.maxEPCISScan {
            let page = try node.store.scan(prefix: "crab/hist/", after: after, limit: 1000)
            for e in page { if let h = (try? JSONParser().parse(e.value)).flatMap(HistoryEntry.init) { entries.append(h) } }
            guard page.count == 1000, let last = page.last else { break }
            after = last.key
        }
        guard !entries.isEmpty else { return [] }
        let export = EPCISExport(queries: CrabQueries(state: node.store))
        let document = try EPCISDocument(
            export.document(events: try export.events(for: entries), creationTime: 0),
            limits: EPCISLimits(maxEvents: Int.max, maxListItems: 100_000))
        return document.events.map { event in
            let hash = event.hash
            let record: JSONValue = .object([
                "hash": .string(hash), "event": .object(event.json),
                "namespaces": .object(
                    event.namespaces.prefixes.filter { EPCISNamespaces.standard[$0.key] == nil }.mapValues { .string($0) }),
            ])
            return (EPCISEventSummary(event: event, hash: hash), record)
        }
    }

    static func percent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// The crab contract's steps exported as EPCIS events, kept for the committed height they were
/// computed at (a later block replaces them).
final class CrabEPCISCache: Sendable {
    private let cached = Mutex<(height: UInt64, events: [(summary: EPCISEventSummary, record: JSONValue)])?>(nil)

    func events(at height: UInt64) -> [(summary: EPCISEventSummary, record: JSONValue)]? {
        cached.withLock { c in c.flatMap { $0.height == height ? $0.events : nil } }
    }

    func store(_ events: [(summary: EPCISEventSummary, record: JSONValue)], at height: UInt64) {
        cached.withLock { $0 = (height, events) }
    }
}
