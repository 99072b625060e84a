import ChainCore
import Crypto

/// The CBV 2.0 event hash (§8.9): a canonical "pre-hash" string of the event's business content
/// hashed with SHA-256 and written `ni:///sha-256;<hex>?ver=CBV2.0`. Serialisation details
/// (member order, whitespace, URN vs Digital Link, time zone, CURIEs) do not change the hash;
/// `eventID`, `recordTime` and comments are left out.
///
/// Layout follows the reference implementation (epcis-event-hash-generator): `eventType=...`,
/// then the standard fields in a fixed order, each `name=value` or `name` followed by its
/// children, values within one list sorted; then every remaining field (business transactions,
/// sources, destinations, ilmd, error declaration, user extensions as `{namespace}local`) sorted
/// as strings. Nested standard objects (readPoint, sensor elements) put their own extensions
/// after their standard members.
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

/// A field's canonical rendering before sorting: `name=value` or `name` + children.
struct PreHasher {
    let namespaces: EPCISNamespaces
    /// Document-declared fields to leave out (see `EPCISEvent.ignoredFields`).
    var ignoredFields: Set<String> = []

    static let epcLists = ["epcList", "inputEPCList", "childEPCs", "outputEPCList"]
    static let quantityLists = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"]
    static let order: [String] = [
        "eventTime", "eventTimeZoneOffset", "certificationInfo", "epcList", "parentID", "inputEPCList", "childEPCs",
        "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList", "outputQuantityList", "action",
        "transformationID", "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "sensorElementList",
    ]
    static let ignored: Set<String> = ["type", "eventID", "recordTime", "@context", "comment", "rdfs:comment"]
    static let metadataOrder = [
        "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules",
    ]
    static let reportOrder = [
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
        "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue", "minValue",
        "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
    ]
    static let timeFields: Set<String> = ["eventTime", "time", "startTime", "endTime", "declarationTime"]

    func event(_ e: [String: JSONValue]) -> String {
        var out = "eventType=" + (e["type"]?.stringValue ?? "")
        for key in Self.order {
            guard let v = e[key] else { continue }
            out += standard(key, v)
        }
        let rest = e.filter {
            !Self.order.contains($0.key) && !Self.ignored.contains($0.key) && !ignoredFields.contains($0.key)
        }
        out += rest.flatMap { generic($0.key, $0.value, parent: "event") }.sorted(by: Self.less).joined()
        return out
    }

    /// Byte-wise string order (as Python sorts str by code point; UTF-8 bytes order the same).
    static func less(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    func standard(_ key: String, _ v: JSONValue) -> String {
        switch key {
        case _ where Self.epcLists.contains(key):
            let items = (v.arrayValue ?? []).compactMap { $0.stringValue }.map { "epc=" + value($0, field: "epc") }
            return items.isEmpty ? "" : key + items.sorted(by: Self.less).joined()
        case _ where Self.quantityLists.contains(key):
            let items = (v.arrayValue ?? []).map { q -> String in
                "quantityElement" + ["epcClass", "quantity", "uom"].map { k in q[k].map { leaf(k, $0) } ?? "" }.joined()
            }
            return items.isEmpty ? "" : key + items.sorted(by: Self.less).joined()
        case "certificationInfo":
            let items = (v.arrayValue ?? [v]).map { leaf(key, $0) }.filter { !$0.isEmpty }
            return items.sorted(by: Self.less).joined()
        case "persistentDisposition":
            var out = ""
            for k in ["set", "unset"] {
                out += (v[k]?.arrayValue ?? []).map { leaf(k, $0, field: "disposition") }.sorted(by: Self.less).joined()
            }
            return out.isEmpty ? "" : key + out
        case "readPoint", "bizLocation":
            return structured(key, v, order: ["id"])
        case "sensorElementList":
            let items = (v.arrayValue ?? []).map { el -> String in
                let o = el.objectValue ?? [:]
                var s = "sensorElement"
                if let m = o["sensorMetadata"] { s += structured("sensorMetadata", m, order: Self.metadataOrder) }
                s += (o["sensorReport"]?.arrayValue ?? []).map { structured("sensorReport", $0, order: Self.reportOrder) }
                    .sorted(by: Self.less).joined()
                s += extras(o, known: ["sensorMetadata", "sensorReport"])
                return s
            }
            return items.isEmpty ? "" : key + items.sorted(by: Self.less).joined()
        default:
            return leaf(key, v)
        }
    }

    /// `name` + ordered standard members + sorted extensions.
    func structured(_ name: String, _ v: JSONValue, order: [String]) -> String {
        guard let o = v.objectValue else { return leaf(name, v) }
        var s = ""
        for k in order {
            guard let m = o[k] else { continue }
            s += (m.arrayValue ?? [m]).map { leaf(k, $0, field: name + "." + k) }.sorted(by: Self.less).joined()
        }
        s += extras(o, known: Set(order))
        return s.isEmpty ? "" : name + s
    }

    func extras(_ o: [String: JSONValue], known: Set<String>) -> String {
        o.filter { !known.contains($0.key) }.flatMap { generic($0.key, $0.value, parent: "") }.sorted(by: Self.less).joined()
    }

    /// `name=value` for a scalar, "" for an empty one.
    func leaf(_ name: String, _ v: JSONValue, field: String? = nil) -> String {
        guard let text = scalar(v, field: field ?? name) else { return "" }
        return text.isEmpty ? "" : name + "=" + text
    }

    func scalar(_ v: JSONValue, field: String) -> String? {
        switch v {
        case .string(let s):
            let t = s.trimmingWhitespace
            let last = field.split(separator: ".").last.map(String.init) ?? field
            if Self.timeFields.contains(last), let time = EPCISTime(t) { return time.canonical }
            return value(t, field: field)
        case .number(let n): return Self.number(n) ?? n
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    /// Renderings of a non-standard field: one per array element, objects as name + sorted children.
    func generic(_ key: String, _ v: JSONValue, parent: String) -> [String] {
        if parent == "event", key == "bizTransactionList" || key == "sourceList" || key == "destinationList" {
            let member = key == "bizTransactionList" ? "bizTransaction" : key == "sourceList" ? "source" : "destination"
            let items = (v.arrayValue ?? []).map { el -> String in
                let typeField = key == "bizTransactionList" ? "bizTransaction.type" : "sourceDest.type"
                return (el["type"].map { leaf("type", $0, field: typeField) } ?? "") + (el[member].map { leaf(member, $0) } ?? "")
            }
            return items.isEmpty ? [] : [key + items.sorted(by: Self.less).joined()]
        }
        if parent == "event", key == "errorDeclaration", let o = v.objectValue {
            var parts: [String] = []
            for (k, m) in o {
                switch k {
                case "declarationTime": parts.append(leaf(k, m))
                case "reason": parts.append(leaf(k, m, field: "errorDeclaration.reason"))
                case "correctiveEventIDs":
                    let ids = (m.arrayValue ?? []).map { leaf("correctiveEventID", $0) }.sorted(by: Self.less).joined()
                    if !ids.isEmpty { parts.append(k + ids) }
                default: parts += generic(k, m, parent: "")
                }
            }
            return [key + parts.sorted(by: Self.less).joined()]
        }
        let name = expandedName(key)
        switch v {
        case .array(let items): return items.flatMap { generic(key, $0, parent: parent) }
        case .object(let o):
            return [name + o.flatMap { generic($0.key, $0.value, parent: "") }.sorted(by: Self.less).joined()]
        case .null: return [name]
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

    /// Canonical form of a string value: CBV values as web URIs, numbers without padding,
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
        case "disposition", "set", "unset": return CBVVocabulary.disposition.canonical(s)
        case "bizTransaction.type": return CBVVocabulary.bizTransactionType.canonical(s)
        case "sourceDest.type": return CBVVocabulary.sourceDestType.canonical(s)
        case "errorDeclaration.reason": return CBVVocabulary.errorReason.canonical(s)
        case "sensorReport.component": return CBVVocabulary.component.canonical(s)
        case "sensorReport.type": return CBVVocabulary.measurementType.canonical(s)
        case "sensorReport.exception": return CBVVocabulary.sensorAlertType.canonical(s)
        default: break
        }
        for (urn, web) in Self.legacyPrefixes where s.hasPrefix(urn) {
            s = web + s.dropFirst(urn.count)
            break
        }
        if let n = Self.number(s) { return n }
        return GS1Identifier.canonicalDigitalLink(s) ?? s
    }

    static let legacyPrefixes: [(String, String)] = [
        ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ]

    /// A decimal literal in its shortest form (`26.0` → `26`, `+0.50` → `0.5`); nil when `s` is not a number.
    static func number(_ s: String) -> String? {
        let b = Array(s.utf8)
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        var digits = 0
        while i < b.count, b[i] >= 48, b[i] <= 57 {
            i += 1
            digits += 1
        }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                i += 1
                digits += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > start else { return nil }
        }
        guard i == b.count, let d = Double(s), d.isFinite else { return nil }
        if d == d.rounded(), abs(d) < 9.0e18 { return String(Int64(d)) }
        return "\(d)"
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
