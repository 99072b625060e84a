import ChainCore

/// A validated EPCIS 2.0 capture document (`type: EPCISDocument`) and its events.
public struct EPCISDocument: Sendable {
    /// The document as received.
    public let json: [String: JSONValue]
    /// Prefixes declared by the document's `@context` (plus the EPCIS context's own).
    public let namespaces: EPCISNamespaces
    /// The events of `epcisBody.eventList`, in document order.
    public let events: [EPCISEvent]

    /// Validates `value` as a capture document (see `EPCISValidator`) and reads its events.
    public init(_ value: JSONValue, limits: EPCISLimits = EPCISLimits()) throws(ChainError) {
        self = try EPCISValidator(limits: limits).validate(value)
    }

    init(json: [String: JSONValue], namespaces: EPCISNamespaces, events: [EPCISEvent]) {
        self.json = json
        self.namespaces = namespaces
        self.events = events
    }
}

/// One event of a document, with what the chain needs to index it.
public struct EPCISEvent: Sendable {
    /// Position in the document's event list.
    public let index: Int
    /// The event as given.
    public let json: [String: JSONValue]
    /// Prefixes in scope for this event (document `@context` plus the event's own).
    public let namespaces: EPCISNamespaces

    /// Top-level members the event hash leaves out, as the document declared them (a document
    /// member whose local name is `ignoreFields`, e.g. `"repository-x:ignoreFields": ["repository-x:hash"]`:
    /// fields a repository added after capture).
    public let ignoredFields: Set<String>

    /// Creates an event (for hashing events read from elsewhere, e.g. query documents).
    public init(index: Int, json: [String: JSONValue], namespaces: EPCISNamespaces, ignoredFields: Set<String> = []) {
        self.index = index
        self.json = json
        self.namespaces = namespaces.adding(context: json["@context"])
        self.ignoredFields = ignoredFields
    }

    /// The fields a document declares as ignored for event hashing: the string items of every
    /// member named `ignoreFields` (with any namespace prefix) at the document's top level, in
    /// `epcisBody`, or in a query document's `queryResults` and `resultsBody`.
    public static func declaredIgnoredFields(_ document: [String: JSONValue]) -> Set<String> {
        let body = document["epcisBody"]?.objectValue
        let results = body?["queryResults"]?.objectValue
        let containers = [document, body, results, results?["resultsBody"]?.objectValue].compactMap { $0 }
        var out = Set<String>()
        for container in containers {
            for (key, value) in container where key == "ignoreFields" || key.hasSuffix(":ignoreFields") {
                for item in value.arrayValue ?? [] { if let s = item.stringValue { out.insert(s) } }
            }
        }
        return out
    }

    /// `ObjectEvent`, `AggregationEvent`, ...
    public var type: String { json["type"]?.stringValue ?? "" }
    /// The document's own `eventID`, if any.
    public var eventID: String? { json["eventID"]?.stringValue }
    /// `eventTime` in unix milliseconds (0 if absent or malformed; validated events always have it).
    public var eventTimeMillis: Int64 { json["eventTime"]?.stringValue.flatMap { EPCISTime($0) }?.millis ?? 0 }
    /// `bizStep` as a full URI (CBV values in their `https://ref.gs1.org/cbv/BizStep-` form).
    public var bizStep: String? { json["bizStep"]?.stringValue.map { CBVVocabulary.bizStep.canonical($0) } }
    /// `disposition` as a full URI.
    public var disposition: String? { json["disposition"]?.stringValue.map { CBVVocabulary.disposition.canonical($0) } }

    /// Every EPC and class identifier the event names: `epcList`, `parentID`, `childEPCs`,
    /// input/output lists and the `epcClass` of every quantity list, as given, without duplicates.
    public var epcs: [String] {
        var out: [String] = []
        var seen = Set<String>()
        func add(_ s: String?) {
            if let s, seen.insert(s).inserted { out.append(s) }
        }
        add(json["parentID"]?.stringValue)
        for key in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
            for v in json[key]?.arrayValue ?? [] { add(v.stringValue) }
        }
        for key in ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"] {
            for v in json[key]?.arrayValue ?? [] { add(v["epcClass"]?.stringValue) }
        }
        return out
    }

    /// The CBV 2.0 event hash, `ni:///sha-256;<hex>?ver=CBV2.0`.
    public var hash: String { EPCISEventHash.hash(self) }
}

/// Prefix → IRI mappings from JSON-LD `@context` values.
public struct EPCISNamespaces: Sendable, Hashable {
    /// Declared prefixes.
    public private(set) var prefixes: [String: String]

    /// Prefixes defined by the standard EPCIS 2.0 JSON-LD context.
    public static let standard: [String: String] = [
        "epcis": "https://ref.gs1.org/epcis/", "cbv": "https://ref.gs1.org/cbv/", "cbvmda": "urn:epcglobal:cbv:mda:",
        "gs1": "https://gs1.org/voc/", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "owl": "http://www.w3.org/2002/07/owl#", "xsd": "http://www.w3.org/2001/XMLSchema#",
        "dcterms": "http://purl.org/dc/terms/",
    ]

    /// The standard prefixes plus those of `context`.
    public init(context: JSONValue? = nil) {
        prefixes = Self.standard
        self = adding(context: context)
    }

    /// These prefixes plus those declared by `context` (a string, object or array of them).
    public func adding(context: JSONValue?) -> EPCISNamespaces {
        var copy = self
        switch context {
        case .object(let o):
            for (k, v) in o {
                if let s = v.stringValue, !k.hasPrefix("@") { copy.prefixes[k] = s }
                if let s = v["@id"]?.stringValue, !k.hasPrefix("@") { copy.prefixes[k] = s }
            }
        case .array(let items):
            for item in items { copy = copy.adding(context: item) }
        default: break
        }
        return copy
    }

    /// The expanded IRI of a prefixed name (`example:myField` → `https://ns.example.com/epcis/myField`)
    /// as `(namespace, local)`, or nil when the prefix is not declared.
    public func expand(_ name: String) -> (namespace: String, local: String)? {
        guard let colon = name.firstIndex(of: ":") else { return nil }
        let prefix = String(name[..<colon])
        guard let ns = prefixes[prefix] else { return nil }
        return (ns, String(name[name.index(after: colon)...]))
    }

    /// True when `name` is a namespaced extension name: a declared prefix or an absolute
    /// `http(s):`/`urn:` IRI.
    public func isNamespaced(_ name: String) -> Bool {
        if let e = expand(name), !e.local.isEmpty { return true }
        return (name.hasPrefix("http://") || name.hasPrefix("https://") || name.hasPrefix("urn:")) && EPCISValidator.isURI(name)
    }
}

/// Bounds on what one capture may hold.
public struct EPCISLimits: Sendable {
    /// Most events in one document.
    public var maxEvents: Int
    /// Deepest nesting of objects and arrays in the document.
    public var maxDepth: Int
    /// Most identifiers in one list (`epcList`, `childEPCs`, quantity lists, ...).
    public var maxListItems: Int

    /// Defaults: 500 events, depth 24, 2000 list items.
    public init(maxEvents: Int = 500, maxDepth: Int = 24, maxListItems: Int = 2000) {
        self.maxEvents = maxEvents
        self.maxDepth = maxDepth
        self.maxListItems = maxListItems
    }
}
