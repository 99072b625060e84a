import ChainCore

/// Checks an EPCIS 2.0 capture document against the rules of the official JSON Schema
/// (`EPCIS-JSON-Schema.json`, capture part) plus the CBV 2.0 vocabulary rules the schema does
/// not enforce. Every failure is `ChainError(.epcisInvalid, "<where> <path>: <what>")`, where
/// `<where>` is `document` or `event <index>`.
public struct EPCISValidator: Sendable {
    /// Size bounds.
    public let limits: EPCISLimits

    /// Creates a validator.
    public init(limits: EPCISLimits = EPCISLimits()) { self.limits = limits }

    static let documentKeys: Set<String> = [
        "@context", "id", "type", "schemaVersion", "creationDate", "instanceIdentifier", "sender", "receiver", "epcisHeader",
        "epcisBody",
    ]
    static let queryDocumentKeys: Set<String> = ["@context", "id", "type", "schemaVersion", "creationDate", "epcisBody"]
    static let commonEventKeys: Set<String> = [
        "@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "certificationInfo", "errorDeclaration",
    ]
    static let eventKeys: [String: Set<String>] = [
        "ObjectEvent": [
            "action", "epcList", "quantityList", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation",
            "bizTransactionList", "sourceList", "destinationList", "sensorElementList", "ilmd",
        ],
        "AggregationEvent": [
            "parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition", "persistentDisposition",
            "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
        ],
        "AssociationEvent": [
            "parentID", "childEPCs", "childQuantityList", "action", "bizStep", "disposition", "persistentDisposition",
            "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
        ],
        "TransactionEvent": [
            "bizTransactionList", "parentID", "epcList", "quantityList", "action", "bizStep", "disposition",
            "persistentDisposition", "readPoint", "bizLocation", "sourceList", "destinationList", "sensorElementList",
        ],
        "TransformationEvent": [
            "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "bizStep",
            "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList",
            "destinationList", "sensorElementList", "ilmd",
        ],
    ]

    /// Validates `value` and returns the document with its events.
    public func validate(_ value: JSONValue) throws(ChainError) -> EPCISDocument {
        func fail(_ path: String, _ what: String) -> ChainError { ChainError(.epcisInvalid, "document \(path): \(what)") }
        guard let doc = value.objectValue else { throw fail("$", "an EPCIS document must be a JSON object") }
        if let d = Self.depth(value, limit: limits.maxDepth), d > limits.maxDepth {
            throw fail("$", "nesting deeper than \(limits.maxDepth) levels")
        }
        guard let context = doc["@context"] else { throw fail("@context", "required member is missing") }
        try checkContext(context, fail: { fail("@context", $0) })
        let namespaces = EPCISNamespaces(context: context)
        let type = doc["type"]?.stringValue ?? ""
        let items: [JSONValue]
        if Self.eventKeys[type] != nil {
            items = [value]  // a single event (the REST binding's POST /events)
        } else {
            guard type == "EPCISDocument" || type == "EPCISQueryDocument" else {
                throw fail(
                    "type",
                    "must be \"EPCISDocument\", \"EPCISQueryDocument\" or an event type (got \(Self.describe(doc["type"])))")
            }
            let isQuery = type == "EPCISQueryDocument"
            let version = doc["schemaVersion"]
            if !isQuery || version != nil {
                guard let v = version?.stringValue, !v.isEmpty else { throw fail("schemaVersion", "required string is missing") }
                guard v.hasPrefix("2.") else { throw fail("schemaVersion", "\"\(v)\" is not an EPCIS 2.x version") }
            }
            if !isQuery || doc["creationDate"] != nil {
                guard let created = doc["creationDate"]?.stringValue else {
                    throw fail("creationDate", "required date-time is missing")
                }
                guard EPCISTime(created) != nil else { throw fail("creationDate", "\"\(created)\" is not an RFC 3339 date-time") }
            }
            let allowed = isQuery ? Self.queryDocumentKeys : Self.documentKeys
            for key in doc.keys.sorted() where !allowed.contains(key) && !namespaces.isNamespaced(key) {
                throw fail(key, "unknown member (extensions must be namespaced)")
            }
            for key in ["id", "instanceIdentifier", "sender", "receiver"] {
                if let v = doc[key], v.stringValue == nil { throw fail(key, "must be a string") }
            }
            if let id = doc["id"]?.stringValue, !Self.isURI(id) { throw fail("id", "\"\(id)\" is not a URI") }
            if let header = doc["epcisHeader"] {
                guard let h = header.objectValue else { throw fail("epcisHeader", "must be an object") }
                for key in h.keys.sorted() where key != "epcisMasterData" && !namespaces.isNamespaced(key) {
                    throw fail("epcisHeader.\(key)", "unknown member (extensions must be namespaced)")
                }
            }
            guard let body = doc["epcisBody"]?.objectValue else { throw fail("epcisBody", "required object is missing") }
            var listPath = "epcisBody.eventList"
            var container = body
            if isQuery {
                guard let results = body["queryResults"]?.objectValue else {
                    throw fail("epcisBody.queryResults", "required object is missing")
                }
                guard results["queryName"]?.stringValue != nil else {
                    throw fail("epcisBody.queryResults.queryName", "required string is missing")
                }
                guard let rb = results["resultsBody"]?.objectValue else {
                    throw fail("epcisBody.queryResults.resultsBody", "required object is missing")
                }
                container = rb
                listPath = "epcisBody.queryResults.resultsBody.eventList"
            }
            guard let list = container["eventList"] else { throw fail(listPath, "required array is missing") }
            guard let array = list.arrayValue else { throw fail(listPath, "must be an array") }
            guard array.count <= limits.maxEvents else {
                throw fail(listPath, "\(array.count) events; at most \(limits.maxEvents) per document")
            }
            items = array
        }
        var events: [EPCISEvent] = []
        let ignored = EPCISEvent.declaredIgnoredFields(doc)
        for (i, item) in items.enumerated() {
            guard let o = item.objectValue else {
                throw ChainError(.epcisInvalid, "event \(i) $: an event must be a JSON object")
            }
            let event = EPCISEvent(index: i, json: o, namespaces: namespaces, ignoredFields: ignored)
            try EventChecker(index: i, namespaces: event.namespaces, limits: limits).check(o)
            events.append(event)
        }
        return EPCISDocument(json: doc, namespaces: namespaces, events: events)
    }

    func checkContext(_ context: JSONValue, fail: (String) -> ChainError) throws(ChainError) {
        switch context {
        case .string(let s): guard Self.isURI(s) else { throw fail("\"\(s)\" is not a URI") }
        case .object: break
        case .array(let items):
            guard !items.isEmpty else { throw fail("must not be empty") }
            guard Set(items).count == items.count else { throw fail("items must be unique") }
            for item in items {
                switch item {
                case .string(let s): guard Self.isURI(s) else { throw fail("\"\(s)\" is not a URI") }
                case .object: break
                default: throw fail("items must be URIs or objects")
                }
            }
        default: throw fail("must be a URI, an object or an array of them")
        }
    }

    /// True for an absolute URI: `scheme:rest` with an RFC 3986 scheme and no spaces or
    /// characters URIs never contain.
    public static func isURI(_ s: String) -> Bool {
        guard let colon = s.firstIndex(of: ":"), colon != s.startIndex, s.index(after: colon) != s.endIndex else { return false }
        let scheme = s[..<colon]
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == ".") })
        else { return false }
        return !s.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7f || "<>\"{}|\\^`".unicodeScalars.contains($0) }
    }

    /// Nesting depth, stopping early once past `limit`.
    static func depth(_ v: JSONValue, limit: Int) -> Int? {
        func walk(_ v: JSONValue, _ d: Int) -> Int {
            if d > limit { return d }
            switch v {
            case .array(let a): return a.reduce(d) { max($0, walk($1, d + 1)) }
            case .object(let o): return o.values.reduce(d) { max($0, walk($1, d + 1)) }
            default: return d
            }
        }
        return walk(v, 0)
    }

    static func describe(_ v: JSONValue?) -> String {
        guard let v else { return "nothing" }
        switch v {
        case .string(let s): return "\"\(s.prefix(80))\""
        case .number(let n): return "number \(n)"
        case .bool(let b): return "\(b)"
        case .null: return "null"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Validation of one event.
struct EventChecker {
    let index: Int
    let namespaces: EPCISNamespaces
    let limits: EPCISLimits

    func fail(_ path: String, _ what: String) -> ChainError {
        ChainError(.epcisInvalid, "event \(index) \(path): \(what)")
    }

    func check(_ e: [String: JSONValue]) throws(ChainError) {
        guard let type = e["type"]?.stringValue else { throw fail("type", "required event type is missing") }
        guard let allowed = EPCISValidator.eventKeys[type] else {
            throw fail(
                "type",
                "\"\(type)\" is not an EPCIS event type (ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent)"
            )
        }
        for key in e.keys.sorted() where !allowed.contains(key) && !EPCISValidator.commonEventKeys.contains(key) {
            guard namespaces.isNamespaced(key) else {
                throw fail(
                    key,
                    "unknown field for \(type) (user extension fields must be namespaced: a prefix declared in @context, or a full URI)"
                )
            }
        }
        // Common fields.
        guard let eventTime = e["eventTime"] else { throw fail("eventTime", "required date-time is missing") }
        try time(eventTime, "eventTime")
        guard let offset = e["eventTimeZoneOffset"] else { throw fail("eventTimeZoneOffset", "required member is missing") }
        guard let o = offset.stringValue, Self.isOffset(o) else {
            throw fail("eventTimeZoneOffset", "\(EPCISValidator.describe(offset)) is not an offset like +01:00 (-13:59...+14:00)")
        }
        if let v = e["recordTime"] { try time(v, "recordTime") }
        if let v = e["eventID"] { try uri(v, "eventID") }
        if let v = e["certificationInfo"] {
            if let items = v.arrayValue {
                for (i, item) in items.enumerated() { try uri(item, "certificationInfo[\(i)]") }
            } else {
                try uri(v, "certificationInfo")
            }
        }
        if let v = e["errorDeclaration"] { try errorDeclaration(v) }
        if let v = e["@context"] {
            try EPCISValidator().checkContext(v) { (m: String) -> ChainError in fail("@context", m) }
        }
        // Type-specific fields.
        let action = e["action"]
        if let action {
            guard let a = action.stringValue, ["OBSERVE", "ADD", "DELETE"].contains(a) else {
                throw fail("action", "\(EPCISValidator.describe(action)) is not one of OBSERVE, ADD, DELETE")
            }
        } else if type != "TransformationEvent" {
            throw fail("action", "required for \(type) (OBSERVE, ADD or DELETE)")
        }
        for key in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] where e[key] != nil {
            try uriList(e[key]!, key, unique: key != "childEPCs")
        }
        for key in ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"] where e[key] != nil {
            try quantityList(e[key]!, key)
        }
        for key in ["parentID", "transformationID"] where e[key] != nil { try uri(e[key]!, key) }
        if let v = e["bizStep"] { try vocab(v, "bizStep", .bizStep) }
        if let v = e["disposition"] { try vocab(v, "disposition", .disposition) }
        if let v = e["persistentDisposition"] { try persistentDisposition(v) }
        for key in ["readPoint", "bizLocation"] where e[key] != nil { try location(e[key]!, key) }
        if let v = e["bizTransactionList"] { try bizTransactions(v, required: type == "TransactionEvent") }
        if let v = e["sourceList"] { try sourceDest(v, "sourceList", member: "source") }
        if let v = e["destinationList"] { try sourceDest(v, "destinationList", member: "destination") }
        if let v = e["sensorElementList"] { try sensorElements(v) }
        if let v = e["ilmd"] {
            guard let o = v.objectValue else { throw fail("ilmd", "must be an object") }
            try extensions(o, known: [], "ilmd")
        }
        func nonEmpty(_ key: String) -> Bool { !(e[key]?.arrayValue?.isEmpty ?? true) }
        let a = action?.stringValue
        switch type {
        case "ObjectEvent":
            guard e["epcList"] != nil || nonEmpty("quantityList") || (nonEmpty("sensorElementList") && e["readPoint"] != nil)
            else {
                throw fail(
                    "epcList", "an ObjectEvent needs epcList or a non-empty quantityList (or sensorElementList with readPoint)")
            }
            if e["ilmd"] != nil, a != "ADD" { throw fail("ilmd", "ilmd is only allowed when action is ADD") }
        case "AggregationEvent", "AssociationEvent":
            if type == "AssociationEvent", e["parentID"] == nil { throw fail("parentID", "required for AssociationEvent") }
            guard nonEmpty("childEPCs") || nonEmpty("childQuantityList") || a == "DELETE" else {
                throw fail("childEPCs", "\(type) needs childEPCs or childQuantityList unless action is DELETE")
            }
        case "TransactionEvent":
            guard e["epcList"] != nil || nonEmpty("quantityList") || a == "DELETE" else {
                throw fail("epcList", "a TransactionEvent needs epcList or quantityList unless action is DELETE")
            }
        default:  // TransformationEvent
            let input = nonEmpty("inputEPCList") || nonEmpty("inputQuantityList")
            let output = nonEmpty("outputEPCList") || nonEmpty("outputQuantityList")
            guard (input && output) || ((input || output) && e["transformationID"] != nil) else {
                throw fail(
                    "inputEPCList",
                    "a TransformationEvent needs inputs and outputs, or a transformationID with inputs or outputs")
            }
        }
    }

    static func isOffset(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 6, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-"), b[3] == UInt8(ascii: ":"),
            let h = Int(String(decoding: b[1...2], as: UTF8.self)), let m = Int(String(decoding: b[4...5], as: UTF8.self)),
            b[1...2].allSatisfy({ $0 >= 48 && $0 <= 57 }), b[4...5].allSatisfy({ $0 >= 48 && $0 <= 57 })
        else { return false }
        return (h <= 13 && m <= 59) || (h == 14 && m == 0)
    }

    func time(_ v: JSONValue, _ path: String) throws(ChainError) {
        guard let s = v.stringValue, EPCISTime(s) != nil else {
            throw fail(
                path,
                "\(EPCISValidator.describe(v)) is not an RFC 3339 date-time with offset (e.g. 2024-05-01T10:00:00.000+08:00)")
        }
    }

    func uri(_ v: JSONValue, _ path: String) throws(ChainError) {
        guard let s = v.stringValue else { throw fail(path, "must be a URI string (got \(EPCISValidator.describe(v)))") }
        guard EPCISValidator.isURI(s) else { throw fail(path, "\"\(s.prefix(80))\" is not a URI") }
    }

    func uriList(_ v: JSONValue, _ path: String, unique: Bool) throws(ChainError) {
        guard let items = v.arrayValue else { throw fail(path, "must be an array of URIs") }
        guard items.count <= limits.maxListItems else { throw fail(path, "\(items.count) items; at most \(limits.maxListItems)") }
        for (i, item) in items.enumerated() { try uri(item, "\(path)[\(i)]") }
        if unique, Set(items).count != items.count { throw fail(path, "items must be unique") }
    }

    func quantityList(_ v: JSONValue, _ path: String) throws(ChainError) {
        guard let items = v.arrayValue else { throw fail(path, "must be an array of quantity elements") }
        guard items.count <= limits.maxListItems else { throw fail(path, "\(items.count) items; at most \(limits.maxListItems)") }
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            guard let q = item.objectValue else { throw fail(p, "a quantity element must be an object") }
            for key in q.keys.sorted() where !["epcClass", "quantity", "uom"].contains(key) {
                throw fail("\(p).\(key)", "unknown field in a quantity element (allowed: epcClass, quantity, uom)")
            }
            guard let c = q["epcClass"] else { throw fail("\(p).epcClass", "required member is missing") }
            try uri(c, "\(p).epcClass")
            if let n = q["quantity"] {
                guard case .number = n else {
                    throw fail("\(p).quantity", "must be a number (got \(EPCISValidator.describe(n)))")
                }
            }
            if let u = q["uom"] {
                guard let s = u.stringValue, (2...3).contains(s.count),
                    s.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) })
                else { throw fail("\(p).uom", "\(EPCISValidator.describe(u)) is not a UN/CEFACT unit code (2–3 of A–Z, 0–9)") }
            }
        }
    }

    func vocab(_ v: JSONValue, _ path: String, _ vocabulary: CBVVocabulary) throws(ChainError) {
        guard let s = v.stringValue else { throw fail(path, "must be a string (got \(EPCISValidator.describe(v)))") }
        let expanded = expandCURIE(s)
        if let problem = vocabulary.problem(expanded) { throw fail(path, problem) }
    }

    /// `gs1:Temperature` → `https://gs1.org/voc/Temperature` when the prefix is declared.
    func expandCURIE(_ s: String) -> String {
        guard !s.contains("://"), let e = namespaces.expand(s) else { return s }
        return e.namespace + e.local
    }

    func persistentDisposition(_ v: JSONValue) throws(ChainError) {
        guard let o = v.objectValue else { throw fail("persistentDisposition", "must be an object with set and/or unset") }
        for key in o.keys.sorted() where key != "set" && key != "unset" {
            throw fail("persistentDisposition.\(key)", "unknown member (allowed: set, unset)")
        }
        guard o["set"] != nil || o["unset"] != nil else { throw fail("persistentDisposition", "needs set or unset") }
        for key in ["set", "unset"] {
            guard let list = o[key] else { continue }
            guard let items = list.arrayValue, !items.isEmpty else {
                throw fail("persistentDisposition.\(key)", "must be a non-empty array of dispositions")
            }
            guard Set(items).count == items.count else { throw fail("persistentDisposition.\(key)", "items must be unique") }
            for (i, item) in items.enumerated() { try vocab(item, "persistentDisposition.\(key)[\(i)]", .disposition) }
        }
    }

    func location(_ v: JSONValue, _ path: String) throws(ChainError) {
        guard let o = v.objectValue else { throw fail(path, "must be an object with an id") }
        guard let id = o["id"] else { throw fail("\(path).id", "required member is missing") }
        try uri(id, "\(path).id")
        try extensions(o, known: ["id"], path)
    }

    func bizTransactions(_ v: JSONValue, required: Bool) throws(ChainError) {
        let path = "bizTransactionList"
        guard let items = v.arrayValue else { throw fail(path, "must be an array") }
        if required, items.isEmpty { throw fail(path, "a TransactionEvent needs at least one business transaction") }
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            guard let o = item.objectValue else { throw fail(p, "must be an object") }
            for key in o.keys.sorted() where key != "type" && key != "bizTransaction" {
                throw fail("\(p).\(key)", "unknown member (allowed: type, bizTransaction)")
            }
            guard let bt = o["bizTransaction"] else { throw fail("\(p).bizTransaction", "required member is missing") }
            try uri(bt, "\(p).bizTransaction")
            if let t = o["type"] { try vocab(t, "\(p).type", .bizTransactionType) }
        }
    }

    func sourceDest(_ v: JSONValue, _ path: String, member: String) throws(ChainError) {
        guard let items = v.arrayValue else { throw fail(path, "must be an array") }
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            guard let o = item.objectValue else { throw fail(p, "must be an object") }
            for key in o.keys.sorted() where key != "type" && key != member {
                throw fail("\(p).\(key)", "unknown member (allowed: type, \(member))")
            }
            guard let t = o["type"] else { throw fail("\(p).type", "required member is missing") }
            try vocab(t, "\(p).type", .sourceDestType)
            guard let s = o[member] else { throw fail("\(p).\(member)", "required member is missing") }
            try uri(s, "\(p).\(member)")
        }
    }

    func errorDeclaration(_ v: JSONValue) throws(ChainError) {
        let path = "errorDeclaration"
        guard let o = v.objectValue else { throw fail(path, "must be an object") }
        guard let t = o["declarationTime"] else { throw fail("\(path).declarationTime", "required member is missing") }
        try time(t, "\(path).declarationTime")
        if let r = o["reason"] { try vocab(r, "\(path).reason", .errorReason) }
        if let c = o["correctiveEventIDs"] {
            guard let items = c.arrayValue else { throw fail("\(path).correctiveEventIDs", "must be an array of URIs") }
            for (i, item) in items.enumerated() { try uri(item, "\(path).correctiveEventIDs[\(i)]") }
        }
        try extensions(o, known: ["declarationTime", "reason", "correctiveEventIDs"], path)
    }

    static let metadataURIs = ["deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"]
    static let reportURIs = metadataURIs + ["microorganism", "chemicalSubstance", "coordinateReferenceSystem", "uriValue"]
    static let reportNumbers = ["value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"]

    func sensorElements(_ v: JSONValue) throws(ChainError) {
        guard let items = v.arrayValue else { throw fail("sensorElementList", "must be an array") }
        for (i, item) in items.enumerated() {
            let p = "sensorElementList[\(i)]"
            guard let el = item.objectValue else { throw fail(p, "a sensor element must be an object") }
            try extensions(el, known: ["sensorMetadata", "sensorReport"], p)
            if let m = el["sensorMetadata"] {
                let mp = "\(p).sensorMetadata"
                guard let mo = m.objectValue else { throw fail(mp, "must be an object") }
                try extensions(mo, known: Set(Self.metadataURIs + ["time", "startTime", "endTime"]), mp)
                for key in ["time", "startTime", "endTime"] where mo[key] != nil { try time(mo[key]!, "\(mp).\(key)") }
                for key in Self.metadataURIs where mo[key] != nil { try uri(mo[key]!, "\(mp).\(key)") }
            }
            guard let r = el["sensorReport"] else { throw fail("\(p).sensorReport", "required member is missing") }
            guard let reports = r.arrayValue, !reports.isEmpty else {
                throw fail("\(p).sensorReport", "must be a non-empty array of sensor reports")
            }
            for (j, report) in reports.enumerated() {
                let rp = "\(p).sensorReport[\(j)]"
                guard let ro = report.objectValue else { throw fail(rp, "a sensor report must be an object") }
                let known = Set(
                    Self.reportURIs + Self.reportNumbers + [
                        "type", "exception", "time", "component", "stringValue", "booleanValue", "hexBinaryValue", "uom",
                    ])
                try extensions(ro, known: known, rp)
                if let t = ro["type"] { try vocab(t, "\(rp).type", .measurementType) }
                if let x = ro["exception"] { try vocab(x, "\(rp).exception", .sensorAlertType) }
                if let x = ro["component"] { try vocab(x, "\(rp).component", .component) }
                if let x = ro["time"] { try time(x, "\(rp).time") }
                for key in Self.reportURIs where ro[key] != nil { try uri(ro[key]!, "\(rp).\(key)") }
                for key in Self.reportNumbers where ro[key] != nil {
                    guard case .number = ro[key]! else {
                        throw fail("\(rp).\(key)", "must be a number (got \(EPCISValidator.describe(ro[key])))")
                    }
                }
                if let s = ro["stringValue"], s.stringValue == nil { throw fail("\(rp).stringValue", "must be a string") }
                if let s = ro["uom"], s.stringValue == nil { throw fail("\(rp).uom", "must be a string") }
                if let s = ro["booleanValue"], s.boolValue == nil { throw fail("\(rp).booleanValue", "must be true or false") }
                if let s = ro["hexBinaryValue"] {
                    guard let h = s.stringValue, !h.isEmpty, h.allSatisfy(\.isHexDigit) else {
                        throw fail("\(rp).hexBinaryValue", "must be hexadecimal digits")
                    }
                }
            }
        }
    }

    /// Members other than `known` must be namespaced extension fields.
    func extensions(_ o: [String: JSONValue], known: Set<String>, _ path: String) throws(ChainError) {
        for key in o.keys.sorted() where !known.contains(key) && !namespaces.isNamespaced(key) {
            throw fail(
                path.isEmpty ? key : "\(path).\(key)",
                "unknown field \"\(key)\" (user extension fields must be namespaced: a prefix declared in @context, or a full URI)"
            )
        }
    }
}
