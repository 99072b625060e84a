import ChainCore
import Crypto

/// The CBV 2.0 event hash ("EPCIS Event Hash ID", CBV 2.0 §8.9): a canonical pre-hash string of
/// the event's business content, hashed with SHA-256 and written `ni:///sha-256;<hex>?ver=CBV2.0`
/// (RFC 6920). Serialisation details (JSON-LD or XML, member order, whitespace, URN or Digital
/// Link, time zone, CURIEs, number spelling) do not change it.
///
/// The hash is always SHA-256, whatever crypto suite the chain uses: it is a GS1 identifier that
/// other systems recompute.
///
/// Pre-hash, rule by rule (`docs/epcis.md` has the full text and every deliberate difference
/// from the reference implementation, RalphTro/epcis-event-hash-generator):
/// - `eventType=<type>`, then in this order when present: `eventTime`, `eventTimeZoneOffset`,
///   `certificationInfo`, `epcList`, `parentID`, `inputEPCList`, `childEPCs`, `quantityList`,
///   `childQuantityList`, `inputQuantityList`, `outputEPCList`, `outputQuantityList`, `action`,
///   `transformationID`, `bizStep`, `disposition`, `persistentDisposition` (`set`, `unset`),
///   `readPoint` (`id`), `bizLocation` (`id`), `sensorElementList` (`sensorMetadata`, then
///   `sensorReport`s, each with its members in the standard order, then its extensions);
/// - then, sorted as strings: `bizTransactionList`, `sourceList`, `destinationList` (items
///   `type=…` + `bizTransaction=…`/`source=…`/`destination=…`, sorted), `ilmd` and user
///   extensions, written `{namespace}localName[=value]` followed by their sorted children;
/// - left out: `eventID`, `recordTime`, `errorDeclaration` (an error declaration keeps the hash
///   of the event it corrects), `@context`, comments, and fields the document declares ignored;
/// - values trimmed; times in UTC with exactly three fraction digits, rounded half up; numbers
///   in the canonical form of `CanonicalNumber`; CBV values (bare, URN or CURIE) as their
///   `https://ref.gs1.org/cbv/...` or `https://gs1.org/voc/...` URI; GS1 identifiers as
///   constrained canonical Digital Link URIs (`GS1Identifier`); empty values and empty lists
///   leave no trace; list items and same-named siblings sorted by UTF-8 code units.
public enum EPCISEventHash {
    /// The `ni:` hash URI of `event`.
    public static func hash(_ event: EPCISEvent) -> String {
        let digest = SHA256.hash(data: Array(preHash(event).utf8))
        return "ni:///sha-256;" + Hex.encode(Array(digest)) + "?ver=CBV2.0"
    }

    /// The canonical pre-hash string of `event`.
    public static func preHash(_ event: EPCISEvent) -> String {
        PreHasher(namespaces: event.namespaces, ignoredFields: event.ignoredFields).event(event.json)
    }
}

/// Builds pre-hash strings (see `EPCISEventHash`).
struct PreHasher {
    let namespaces: EPCISNamespaces
    /// Document-declared fields to leave out (see `EPCISEvent.ignoredFields`).
    var ignoredFields: Set<String> = []

    static let epcLists: Set<String> = ["epcList", "inputEPCList", "childEPCs", "outputEPCList"]
    static let quantityLists: Set<String> = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"]
    /// The canonical property order up to the sensor elements.
    static let order: [String] = [
        "eventTime", "eventTimeZoneOffset", "certificationInfo", "epcList", "parentID", "inputEPCList", "childEPCs",
        "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList", "outputQuantityList", "action",
        "transformationID", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "sensorElementList",
    ]
    static let ordered = Set(order)
    /// Event members that never enter the pre-hash.
    static let excluded: Set<String> = ["type", "eventID", "recordTime", "errorDeclaration", "@context"]
    static let metadataOrder = [
        "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules",
    ]
    static let reportOrder = [
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
        "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue", "minValue",
        "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
    ]
    static let timeFields: Set<String> = ["eventTime", "time", "startTime", "endTime"]
    /// The three lists whose items pair a type with a value.
    static let typedLists: [String: String] = [
        "bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination",
    ]

    func event(_ e: [String: JSONValue]) -> String {
        var out = "eventType=" + (e["type"]?.stringValue ?? "")
        for key in Self.order {
            guard let v = e[key] else { continue }
            out += standard(key, v)
        }
        var rest: [String] = []
        for key in Self.order {
            if let v = e[key], let left = leftovers(key, v) { rest.append(left) }
        }
        for (key, value) in e where !Self.ordered.contains(key) && !Self.excluded.contains(key) && !ignoredFields.contains(key) {
            if let member = Self.typedLists[key] {
                rest += typedList(key, member: member, value)
            } else if !isComment(key) {
                rest += generic(key, value)
            }
        }
        return out + rest.sorted(by: Self.less).joined()
    }

    /// Code-unit order of UTF-8 (the same as Unicode code point order).
    static func less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    static func sortedJoined(_ items: [String]) -> String { items.sorted(by: less).joined() }

    /// A member of the canonical property order.
    func standard(_ key: String, _ v: JSONValue) -> String {
        if Self.epcLists.contains(key) {
            let items = (v.arrayValue ?? [v]).map { leaf("epc", $0) }.filter { !$0.isEmpty }
            return items.isEmpty ? "" : key + Self.sortedJoined(items)
        }
        if Self.quantityLists.contains(key) {
            let items = (v.arrayValue ?? [v]).map { q -> String in
                let fields = ["epcClass", "quantity", "uom"].map { k in q[k].map { leaf(k, $0) } ?? "" }.joined()
                return fields.isEmpty ? "" : "quantityElement" + fields
            }.filter { !$0.isEmpty }
            return items.isEmpty ? "" : key + Self.sortedJoined(items)
        }
        switch key {
        case "certificationInfo":
            return Self.sortedJoined((v.arrayValue ?? [v]).map { leaf(key, $0) })
        case "persistentDisposition":
            var out = ""
            for k in ["set", "unset"] {
                out += Self.sortedJoined((v[k].map { $0.arrayValue ?? [$0] } ?? []).map { leaf(k, $0, field: "disposition") })
            }
            return out.isEmpty ? "" : key + out
        case "readPoint", "bizLocation":
            return structured(key, v, order: ["id"])
        case "sensorElementList":
            let items = (v.arrayValue ?? [v]).map { el -> String in
                guard let o = el.objectValue else { return "" }
                var s = ""
                if let m = o["sensorMetadata"] { s += structured("sensorMetadata", m, order: Self.metadataOrder) }
                let reports = o["sensorReport"].map { $0.arrayValue ?? [$0] } ?? []
                s += Self.sortedJoined(reports.map { structured("sensorReport", $0, order: Self.reportOrder) })
                s += extensions(o, known: ["sensorMetadata", "sensorReport"])
                return s.isEmpty ? "" : "sensorElement" + s
            }.filter { !$0.isEmpty }
            return items.isEmpty ? "" : key + Self.sortedJoined(items)
        default:
            return leaf(key, v)
        }
    }

    /// `name` + its standard members in `order` + its extensions sorted; "" when all are empty.
    func structured(_ name: String, _ v: JSONValue, order: [String]) -> String {
        guard let o = v.objectValue else { return leaf(name, v) }
        var s = ""
        for k in order {
            guard let m = o[k] else { continue }
            s += Self.sortedJoined((m.arrayValue ?? [m]).map { leaf(k, $0, field: name + "." + k) })
        }
        s += extensions(o, known: Set(order))
        return s.isEmpty ? "" : name + s
    }

    /// The members of `o` outside `known` that are user extensions (namespaced), rendered and sorted.
    func extensions(_ o: [String: JSONValue], known: Set<String>) -> String {
        Self.sortedJoined(
            o.filter { !known.contains($0.key) && !isComment($0.key) && isExtension($0.key) }.flatMap {
                generic($0.key, $0.value)
            })
    }

    /// A namespaced member name: a declared prefix or a full IRI.
    func isExtension(_ key: String) -> Bool { expandedName(key).hasPrefix("{") || key.contains("://") }

    /// Members of a nested standard object that are neither its standard members nor user
    /// extensions (a bare `bizRules` on a sensor report, an unknown member of a quantity element).
    /// The reference implementation leaves them where its ordered pass cannot place them and
    /// writes them with the generic remainder of the event, under the names of the objects that
    /// hold them (`sensorElementList sensorElement sensorReport bizRules=...`); so do we.
    func stray(_ v: JSONValue, known: Set<String>) -> [String] {
        guard let o = v.objectValue else { return [] }
        return o.filter {
            !known.contains($0.key) && !isComment($0.key) && !isExtension($0.key) && !$0.key.hasPrefix("#")
                && !$0.key.hasPrefix("@")
        }
        .flatMap { generic($0.key, $0.value) }
    }

    /// The remainder rendering of the stray members below `key` (see `stray`), nil when there are none.
    func leftovers(_ key: String, _ v: JSONValue) -> String? {
        func wrap(_ name: String, _ parts: [String]) -> String? { parts.isEmpty ? nil : name + Self.sortedJoined(parts) }
        if Self.quantityLists.contains(key) {
            let items = (v.arrayValue ?? [v]).compactMap {
                wrap("quantityElement", stray($0, known: ["epcClass", "quantity", "uom"]))
            }
            return wrap(key, items)
        }
        switch key {
        case "readPoint", "bizLocation": return wrap(key, stray(v, known: ["id"]))
        case "persistentDisposition": return wrap(key, stray(v, known: ["set", "unset"]))
        case "sensorElementList":
            let items = (v.arrayValue ?? [v]).compactMap { el -> String? in
                guard let o = el.objectValue else { return nil }
                var parts = stray(el, known: ["sensorMetadata", "sensorReport"])
                if let m = o["sensorMetadata"], let left = wrap("sensorMetadata", stray(m, known: Set(Self.metadataOrder))) {
                    parts.append(left)
                }
                for r in o["sensorReport"].map({ $0.arrayValue ?? [$0] }) ?? [] {
                    if let left = wrap("sensorReport", stray(r, known: Set(Self.reportOrder))) { parts.append(left) }
                }
                return wrap("sensorElement", parts)
            }
            return wrap(key, items)
        default: return nil
        }
    }

    /// `bizTransactionList`, `sourceList` or `destinationList`: `type=` before the value in each item.
    func typedList(_ key: String, member: String, _ v: JSONValue) -> [String] {
        let typeField = key == "bizTransactionList" ? "bizTransaction.type" : "sourceDest.type"
        let items = (v.arrayValue ?? [v]).map { el -> String in
            (el["type"].map { leaf("type", $0, field: typeField) } ?? "") + (el[member].map { leaf(member, $0) } ?? "")
        }.filter { !$0.isEmpty }
        return items.isEmpty ? [] : [key + Self.sortedJoined(items)]
    }

    /// `name=value` for a scalar; "" for an empty or absent one.
    func leaf(_ name: String, _ v: JSONValue, field: String? = nil) -> String {
        guard let text = scalar(v, field: field ?? name), !text.isEmpty else { return "" }
        return name + "=" + text
    }

    /// The canonical text of a scalar (nil for objects, arrays and null).
    func scalar(_ v: JSONValue, field: String) -> String? {
        switch v {
        case .string(let s):
            let t = s.trimmingWhitespace
            let last = field.split(separator: ".").last.map(String.init) ?? field
            if Self.timeFields.contains(last), let time = EPCISTime(t) { return time.canonical }
            return value(t, field: field)
        case .number(let n): return CanonicalNumber.canonical(n) ?? n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// True for comment members, which never count (`rdfs:comment`, `comment`).
    func isComment(_ key: String) -> Bool {
        key == "comment" || key == "rdfs:comment" || expandedName(key) == "{http://www.w3.org/2000/01/rdf-schema#}comment"
    }

    /// Renderings of an extension member: one per array item; an object as its name, its text
    /// (`#text`, from XML elements with attributes) and its sorted children; null as nothing
    /// (JSON-LD drops null members).
    func generic(_ key: String, _ v: JSONValue) -> [String] {
        let name = expandedName(key)
        switch v {
        case .array(let items): return items.flatMap { generic(key, $0) }
        case .object(let o):
            var s = name
            if let text = o["#text"].flatMap({ scalar($0, field: key) }), !text.isEmpty { s += "=" + text }
            let children = o.filter { $0.key != "#text" && !isComment($0.key) && !$0.key.hasPrefix("@") }
            return [s + Self.sortedJoined(children.flatMap { generic($0.key, $0.value) })]
        case .null: return []
        default:
            let text = scalar(v, field: key) ?? ""
            return [text.isEmpty ? name : name + "=" + text]
        }
    }

    /// `example:myField` → `{https://ns.example.com/epcis/}myField` when the prefix is declared.
    func expandedName(_ key: String) -> String {
        guard !key.contains("://"), let e = namespaces.expand(key) else { return key }
        return "{" + e.namespace + "}" + e.local
    }

    /// Canonical form of a string value: CBV values as web URIs, numbers in canonical form,
    /// GS1 identifiers as canonical Digital Link URIs.
    func value(_ raw: String, field: String) -> String {
        var s = raw
        if !s.contains("://"), let e = namespaces.expand(s),
            e.namespace.hasPrefix("https://ref.gs1.org") || e.namespace.hasPrefix("https://gs1.org")
        {
            s = e.namespace + e.local
        }
        switch field {
        case "bizStep": return CBVVocabulary.bizStep.canonical(s)
        case "disposition": return CBVVocabulary.disposition.canonical(s)
        case "bizTransaction.type": return CBVVocabulary.bizTransactionType.canonical(s)
        case "sourceDest.type": return CBVVocabulary.sourceDestType.canonical(s)
        case "sensorReport.component": return CBVVocabulary.component.canonical(s)
        case "sensorReport.type": return CBVVocabulary.measurementType.canonical(s)
        case "sensorReport.exception": return CBVVocabulary.sensorAlertType.canonical(s)
        default: break
        }
        for (urn, web) in Self.legacyPrefixes where s.hasPrefix(urn) {
            s = web + s.dropFirst(urn.count)
            break
        }
        if let n = CanonicalNumber.canonical(s) { return n }
        return GS1Identifier.canonicalDigitalLink(s) ?? s
    }

    static let legacyPrefixes: [(String, String)] = [
        ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ]
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
