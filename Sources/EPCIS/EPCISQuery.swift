import ChainCore

/// A parsed EPCIS 2.0 simple event query (REST binding query parameters).
///
/// Supported: `EQ_eventID`, `MATCH_epc`, `EQ_bizStep`, `GE_eventTime`, `LT_eventTime`,
/// `eventType`, `perPage`, `nextPageToken`. List parameters are comma separated; an event
/// matches when it matches every given parameter. Unknown or malformed parameters fail with
/// `epcis_bad_query`.
public struct EPCISQuery: Sendable, Equatable {
    /// Hash URIs or document event ids to match.
    public var eventIDs: Set<String>?
    /// EPCs / class ids, canonicalised (URN and Digital Link spellings are equal).
    public var epcs: Set<String>?
    /// Business steps as full URIs.
    public var bizSteps: Set<String>?
    /// Inclusive lower bound on eventTime.
    public var fromTime: EPCISTime?
    /// Exclusive upper bound on eventTime.
    public var toTime: EPCISTime?
    /// Event types.
    public var eventTypes: Set<String>?
    /// Page size (1...1000, default 100).
    public var perPage: Int = 100
    /// Position of the first result (from `nextPageToken`).
    public var offset: Int = 0

    /// The largest page.
    public static let maxPerPage = 1000

    /// Parses query parameters.
    public init(parameters: [String: String]) throws(ChainError) {
        func bad(_ name: String, _ what: String) -> ChainError { ChainError(.epcisBadQuery, "\(name): \(what)") }
        func list(_ name: String, _ raw: String) throws(ChainError) -> [String] {
            let items = raw.split(separator: ",").map { String($0).trimmingWhitespace }.filter { !$0.isEmpty }
            guard !items.isEmpty else { throw bad(name, "needs at least one value") }
            guard items.count <= 100 else { throw bad(name, "at most 100 values") }
            return items
        }
        for (name, raw) in parameters.sorted(by: { $0.key < $1.key }) {
            switch name {
            case "EQ_eventID": eventIDs = Set(try list(name, raw))
            case "MATCH_epc": epcs = Set(try list(name, raw).map(GS1Identifier.normalised))
            case "EQ_bizStep":
                let steps = try list(name, raw)
                for s in steps where CBVVocabulary.bizStep.problem(s) != nil {
                    throw bad(name, CBVVocabulary.bizStep.problem(s) ?? "")
                }
                bizSteps = Set(steps.map(CBVVocabulary.bizStep.canonical))
            case "GE_eventTime", "LT_eventTime":
                guard let t = EPCISTime(raw) else { throw bad(name, "\"\(raw.prefix(64))\" is not an RFC 3339 date-time") }
                if name == "GE_eventTime" { fromTime = t } else { toTime = t }
            case "eventType":
                let types = try list(name, raw)
                for t in types where EPCISValidator.eventKeys[t] == nil { throw bad(name, "\"\(t)\" is not an EPCIS event type") }
                eventTypes = Set(types)
            case "perPage":
                guard let n = Int(raw), (1...Self.maxPerPage).contains(n) else {
                    throw bad(name, "must be an integer in 1...\(Self.maxPerPage)")
                }
                perPage = n
            case "nextPageToken":
                guard let n = Int(raw), n >= 0 else { throw bad(name, "not a token this server issued") }
                offset = n
            default:
                throw bad(name, "unsupported query parameter")
            }
        }
    }

    /// True when the event summary (as emitted in `epcis_event`) matches every parameter.
    public func matches(_ s: EPCISEventSummary) -> Bool {
        if let eventIDs, !eventIDs.contains(s.hash), !(s.eventID.map(eventIDs.contains) ?? false) { return false }
        if let epcs, !s.epcs.contains(where: { epcs.contains(GS1Identifier.normalised($0)) }) { return false }
        if let bizSteps, !(s.bizStep.map(bizSteps.contains) ?? false) { return false }
        if let fromTime, s.eventTime < fromTime.millis { return false }
        if let toTime, s.eventTime >= toTime.millis { return false }
        if let eventTypes, !eventTypes.contains(s.type) { return false }
        return true
    }
}

/// The compact description of a captured event, emitted as the `epcis_event` contract event.
public struct EPCISEventSummary: Sendable, Equatable {
    /// CBV 2.0 event hash.
    public let hash: String
    /// The document's own eventID, if given.
    public let eventID: String?
    /// Event type.
    public let type: String
    /// bizStep as a full URI.
    public let bizStep: String?
    /// eventTime, unix milliseconds.
    public let eventTime: Int64
    /// All EPCs and class ids named by the event.
    public let epcs: [String]
    /// The contract state key of the stored record (`event/<hash>`; `decl/<hash>` for an error declaration).
    public let key: String

    /// Describes a validated event stored under `key` (default `event/<hash>`).
    public init(event: EPCISEvent, hash: String, key: String? = nil) {
        self.hash = hash
        eventID = event.eventID
        type = event.type
        bizStep = event.bizStep
        eventTime = event.eventTimeMillis
        epcs = event.epcs
        self.key = key ?? "event/" + hash
    }

    /// Reads a summary back from its JSON form; nil when it is not one.
    public init?(json: JSONValue) {
        guard let hash = json["hash"]?.stringValue, let type = json["type"]?.stringValue,
            let time = json["eventTime"]?.int64Value, let key = json["key"]?.stringValue
        else { return nil }
        self.hash = hash
        eventID = json["eventID"]?.stringValue
        self.type = type
        bizStep = json["bizStep"]?.stringValue
        eventTime = time
        epcs = (json["epcs"]?.arrayValue ?? []).compactMap(\.stringValue)
        self.key = key
    }

    /// The JSON form.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "hash": .string(hash), "type": .string(type), "eventTime": .int(eventTime),
            "epcs": .array(epcs.map(JSONValue.string)), "key": .string(key),
        ]
        if let eventID { o["eventID"] = .string(eventID) }
        if let bizStep { o["bizStep"] = .string(bizStep) }
        return .object(o)
    }
}

/// Builds `EPCISQueryDocument`s from stored event records.
public enum EPCISQueryDocument {
    /// The standard EPCIS 2.0 JSON-LD context.
    public static let context = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

    /// A query document listing `records` (as stored by the `epcis` contract: `{hash, event,
    /// namespaces, ...}`); events without their own eventID get their hash as `eventID`.
    /// `creationDate` is `createdMillis` (unix ms).
    public static func build(records: [JSONValue], createdMillis: Int64, queryName: String = "SimpleEventQuery") -> JSONValue {
        let events: [JSONValue] = records.compactMap { record in
            guard var e = record["event"]?.objectValue, let hash = record["hash"]?.stringValue else { return nil }
            if e["eventID"] == nil { e["eventID"] = .string(hash) }
            if let ns = record["namespaces"]?.objectValue, !ns.isEmpty {
                var ctx: [JSONValue] = []
                if let own = e["@context"] { ctx += own.arrayValue ?? [own] }
                ctx.append(.object(ns))
                e["@context"] = .array(ctx)
            }
            return .object(e)
        }
        return .object([
            "@context": .array([.string(context)]),
            "type": .string("EPCISQueryDocument"),
            "schemaVersion": .string("2.0"),
            "creationDate": .string(EPCISTime(millis: createdMillis).canonical),
            "epcisBody": .object([
                "queryResults": .object([
                    "queryName": .string(queryName),
                    "resultsBody": .object(["eventList": .array(events)]),
                ])
            ]),
        ])
    }
}

/// One event a query can return: what queries match on, and how to load its full record
/// (`{hash, event, namespaces}`) when it is on the page.
public struct EPCISCandidate: Sendable {
    /// What queries match on.
    public let summary: EPCISEventSummary
    /// Loads the record.
    public let record: @Sendable () throws -> JSONValue?

    /// Creates a candidate.
    public init(summary: EPCISEventSummary, record: @escaping @Sendable () throws -> JSONValue?) {
        self.summary = summary
        self.record = record
    }
}

/// Answers EPCIS queries over candidate events from any number of sources (events captured by
/// the `epcis` contract, the crab contract's steps exported as EPCIS): the API and the tests run
/// this same code.
public enum EPCISQueryEngine {
    /// One page of results.
    public struct Page: Sendable {
        /// The `EPCISQueryDocument`.
        public let document: JSONValue
        /// Token for the next page, nil on the last one.
        public let nextPageToken: String?
        /// Events that matched, over all pages.
        public let matched: Int
    }

    /// The page of `query` over `candidates`, ordered by event time then hash; `nowMillis` is
    /// the document's creation date.
    public static func run(_ query: EPCISQuery, candidates: [EPCISCandidate], nowMillis: Int64) throws -> Page {
        var matched = candidates.filter { query.matches($0.summary) }
        matched.sort { ($0.summary.eventTime, $0.summary.hash) < ($1.summary.eventTime, $1.summary.hash) }
        let page = matched.dropFirst(query.offset).prefix(query.perPage)
        let records = try page.compactMap { try $0.record() }
        let end = query.offset + page.count
        return Page(
            document: EPCISQueryDocument.build(records: records, createdMillis: nowMillis),
            nextPageToken: end < matched.count ? String(end) : nil, matched: matched.count)
    }
}
