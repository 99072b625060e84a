import ChainCore

/// EPCIS XML documents (2.0, and 1.x with their `extension` wrappers) read into the JSON-LD
/// event model, following the XML/JSON mapping of EPCIS 2.0: an event captured as XML has the
/// same members, and so the same event hash, as its JSON-LD twin.
///
/// Mapping: the event element's name is its `type`; `extension` and `baseExtension` wrappers
/// are dissolved; `epcList`/`childEPCs`/`inputEPCList`/`outputEPCList` become arrays of their
/// `epc` texts; quantity lists arrays of `{epcClass, quantity, uom}`; `bizTransactionList`,
/// `sourceList`, `destinationList` arrays of `{type, bizTransaction|source|destination}`;
/// `persistentDisposition` `{set: [...], unset: [...]}`; `sensorElementList` an array of
/// `{sensorMetadata, sensorReport: [...]}` with attributes as members. Extension elements keep
/// the document's prefix (`example:myField`, a fresh `nsN` prefix when the document's clashes),
/// declared in the event's namespaces; an element with attributes or children becomes an object
/// (its own text as `#text`), repeated elements an array; `xsi:` attributes are typing, not data.
public enum EPCISXML {
    /// The events of an EPCIS XML capture or query document, with the fields the document
    /// declares ignored (`ignoreFields`) applied.
    public static func events(_ bytes: [UInt8], limits: XMLLimits = XMLLimits()) throws(ChainError) -> [EPCISEvent] {
        try events(XMLReader.parse(bytes, limits: limits))
    }

    /// The events of a document already read by `XMLReader` (a caller that needed the tree first,
    /// e.g. for its root namespace, does not read the bytes twice).
    public static func events(_ root: XMLTree) throws(ChainError) -> [EPCISEvent] {
        var mapper = Mapper()
        mapper.declare(root)
        guard let list = find(root, local: "EventList", depth: 4) else {
            throw ChainError(.epcisInvalid, "xml: no EventList in the document")
        }
        var ignored = Set<String>()
        for list in ignoreLists(root, depth: 3) { for f in list.children { ignored.insert(mapper.key(f)) } }
        var events: [EPCISEvent] = []
        for element in dissolved(list.children) {
            let json = mapper.event(element)
            events.append(EPCISEvent(index: events.count, json: json, namespaces: mapper.namespaces, ignoredFields: ignored))
        }
        return events
    }

    /// The `ignoreFields` elements (any namespace) at most `depth` levels below `node`, outside event lists.
    static func ignoreLists(_ node: XMLTree, depth: Int) -> [XMLTree] {
        guard depth > 0 else { return [] }
        return node.children.flatMap { c -> [XMLTree] in
            if c.local == "ignoreFields" { return [c] }
            return c.local == "EventList" ? [] : ignoreLists(c, depth: depth - 1)
        }
    }

    /// The first element named `local` (any namespace) at most `depth` levels below `node`, breadth first.
    static func find(_ node: XMLTree, local: String, depth: Int) -> XMLTree? {
        var level = [node]
        for _ in 0...depth {
            if let hit = level.first(where: { $0.local == local }) { return hit }
            level = level.flatMap(\.children)
        }
        return nil
    }

    /// EPCIS's own (unqualified) elements: no namespace, or an EPCIS schema namespace.
    static func isStandard(_ e: XMLTree) -> Bool {
        e.namespace.isEmpty || e.namespace.hasPrefix("urn:epcglobal:epcis")
    }

    /// `children` with every standard `extension`/`baseExtension` wrapper replaced by its content.
    static func dissolved(_ children: [XMLTree]) -> [XMLTree] {
        children.flatMap { c in
            isStandard(c) && (c.local == "extension" || c.local == "baseExtension") ? dissolved(c.children) : [c]
        }
    }

    /// `xsi:` attributes (`xsi:type="xsd:integer"` on an extension element) say how XML types a
    /// value; JSON-LD says it with the value itself, so they are not members.
    static let schemaInstance = "http://www.w3.org/2001/XMLSchema-instance"

    static let epcLists: Set<String> = ["epcList", "childEPCs", "inputEPCList", "outputEPCList"]
    static let quantityLists: Set<String> = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"]
    static let typedLists: [String: String] = [
        "bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination",
    ]

    /// Names the XML's namespaces with prefixes the JSON-LD model can expand.
    struct Mapper {
        var namespaces = EPCISNamespaces()
        /// Namespace IRI → the prefix its members are written with.
        var prefixOf: [String: String] = [:]
        var fresh = 0

        /// Takes in the namespace declarations of `element` and all below it.
        mutating func declare(_ element: XMLTree) {
            for d in element.declarations where !d.namespace.isEmpty { _ = prefix(for: d.namespace, preferred: d.prefix) }
            for c in element.children { declare(c) }
        }

        /// The prefix for `namespace`: the document's own when it is free (or already means the same).
        mutating func prefix(for namespace: String, preferred: String) -> String {
            if let p = prefixOf[namespace] { return p }
            var p = preferred
            if p.isEmpty || (namespaces.prefixes[p].map { $0 != namespace } ?? false) {
                repeat {
                    p = "ns\(fresh)"
                    fresh += 1
                } while namespaces.prefixes[p] != nil
            }
            prefixOf[namespace] = p
            namespaces = namespaces.adding(context: .object([p: .string(namespace)]))
            return p
        }

        /// The JSON member name of an element or attribute.
        mutating func key(namespace: String, prefix: String, local: String) -> String {
            if namespace.isEmpty || namespace.hasPrefix("urn:epcglobal:epcis") { return local }
            return self.prefix(for: namespace, preferred: prefix) + ":" + local
        }

        mutating func key(_ e: XMLTree) -> String { key(namespace: e.namespace, prefix: e.prefix, local: e.local) }

        /// Members of `children`, same-named ones gathered into an array.
        mutating func members(
            _ children: [XMLTree], into o: inout [String: JSONValue], convert: (inout Mapper, XMLTree) -> JSONValue
        ) {
            var order: [String] = []
            var values: [String: [JSONValue]] = [:]
            for c in children {
                let k = key(c)
                if values[k] == nil { order.append(k) }
                values[k, default: []].append(convert(&self, c))
            }
            for k in order {
                guard let v = values[k] else { continue }
                o[k] = v.count == 1 ? v[0] : .array(v)
            }
        }

        /// A generic element: its text, or an object of its attributes, children and `#text`.
        mutating func generic(_ e: XMLTree) -> JSONValue {
            let children = EPCISXML.dissolved(e.children)
            let text = e.text.trimmingWhitespace
            if children.isEmpty && !e.attributes.contains(where: { $0.namespace != EPCISXML.schemaInstance }) {
                return .string(text)
            }
            var o: [String: JSONValue] = [:]
            for a in e.attributes where a.namespace != EPCISXML.schemaInstance {
                o[key(namespace: a.namespace, prefix: a.prefix, local: a.local)] = .string(a.value)
            }
            members(children, into: &o) { m, c in m.generic(c) }
            if !text.isEmpty { o["#text"] = .string(text) }
            return .object(o)
        }

        /// An event element in the JSON-LD model.
        mutating func event(_ e: XMLTree) -> [String: JSONValue] {
            var o: [String: JSONValue] = ["type": .string(e.local)]
            members(EPCISXML.dissolved(e.children), into: &o) { m, c in m.standard(c) }
            return o
        }

        /// A direct child of an event.
        mutating func standard(_ c: XMLTree) -> JSONValue {
            guard EPCISXML.isStandard(c) else { return generic(c) }
            let kids = EPCISXML.dissolved(c.children)
            if EPCISXML.epcLists.contains(c.local) {
                return .array(kids.map { .string($0.text.trimmingWhitespace) })
            }
            if EPCISXML.quantityLists.contains(c.local) {
                return .array(kids.map { generic($0) })
            }
            if let member = EPCISXML.typedLists[c.local] {
                return .array(
                    kids.map { item in
                        var o = [member: JSONValue.string(item.text.trimmingWhitespace)]
                        for a in item.attributes where a.namespace.isEmpty && a.local == "type" { o["type"] = .string(a.value) }
                        return .object(o)
                    })
            }
            switch c.local {
            case "persistentDisposition":
                var o: [String: JSONValue] = [:]
                for k in ["set", "unset"] {
                    let values = kids.filter { $0.local == k }.map { JSONValue.string($0.text.trimmingWhitespace) }
                    if !values.isEmpty { o[k] = .array(values) }
                }
                return .object(o)
            case "sensorElementList":
                return .array(
                    kids.map { element in
                        var o: [String: JSONValue] = [:]
                        var reports: [JSONValue] = []
                        var rest: [XMLTree] = []
                        for part in EPCISXML.dissolved(element.children) {
                            if EPCISXML.isStandard(part), part.local == "sensorReport" {
                                reports.append(generic(part))
                            } else {
                                rest.append(part)
                            }
                        }
                        members(rest, into: &o) { m, p in m.generic(p) }
                        if !reports.isEmpty { o["sensorReport"] = .array(reports) }
                        return .object(o)
                    })
            default:
                return generic(c)
            }
        }
    }
}
