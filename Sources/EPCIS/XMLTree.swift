import ChainCore

/// A namespace-resolved XML element: what EPCIS XML documents are read into.
public struct XMLTree: Sendable {
    /// The namespace IRI of the element's name ("" for none).
    public var namespace: String
    /// The prefix the document wrote ("" for none or the default namespace).
    public var prefix: String
    /// The local name.
    public var local: String
    /// Attributes in document order (`namespace` "" for unprefixed ones).
    public var attributes: [(namespace: String, prefix: String, local: String, value: String)]
    /// Child elements in document order.
    public var children: [XMLTree]
    /// The character data directly inside the element, concatenated (text between children included).
    public var text: String
    /// Every `xmlns:prefix` declared on this element (prefix "" for the default namespace).
    public var declarations: [(prefix: String, namespace: String)]
}

/// Bounds on the XML a reader accepts.
public struct XMLLimits: Sendable {
    /// Most bytes of input.
    public var maxBytes: Int
    /// Deepest element nesting.
    public var maxDepth: Int
    /// Most elements in the document.
    public var maxElements: Int
    /// Most attributes on one element.
    public var maxAttributes: Int

    /// Defaults: 4 MiB, depth 48, 200 000 elements, 64 attributes per element.
    public init(maxBytes: Int = 4 << 20, maxDepth: Int = 48, maxElements: Int = 200_000, maxAttributes: Int = 64) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxAttributes = maxAttributes
    }
}

/// A small, bounded, non-validating XML 1.0 reader with namespaces. It reads elements,
/// attributes, character data, CDATA sections and character/predefined entity references;
/// comments, processing instructions, the XML declaration and a bare `<!DOCTYPE name>` are
/// skipped. Document type declarations with an internal subset are refused (no entity
/// declarations, so no entity expansion at all): input size bounds the work.
/// Every failure is `epcis_invalid` with the line of the problem.
public struct XMLReader {
    let b: [UInt8]
    var i = 0
    var elements = 0
    let limits: XMLLimits

    static let xmlNamespace = "http://www.w3.org/XML/1998/namespace"

    /// Parses `bytes` (UTF-8) into its root element.
    public static func parse(_ bytes: [UInt8], limits: XMLLimits = XMLLimits()) throws(ChainError) -> XMLTree {
        guard bytes.count <= limits.maxBytes else {
            throw ChainError(.epcisInvalid, "xml: document of \(bytes.count) bytes exceeds \(limits.maxBytes)")
        }
        var r = XMLReader(b: bytes, limits: limits)
        return try r.document()
    }

    func fail(_ what: String) -> ChainError {
        let line = 1 + b[..<min(i, b.count)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        return ChainError(.epcisInvalid, "xml line \(line): \(what)")
    }

    func starts(with s: String) -> Bool {
        let u = Array(s.utf8)
        return i + u.count <= b.count && Array(b[i..<(i + u.count)]) == u
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D { i += 1 }
    }

    /// Skips past the next `end`; fails when the input ends first.
    mutating func skip(past end: String, what: String) throws(ChainError) {
        let u = Array(end.utf8)
        while i + u.count <= b.count {
            if b[i] == u[0], Array(b[i..<(i + u.count)]) == u {
                i += u.count
                return
            }
            i += 1
        }
        throw fail("unterminated \(what)")
    }

    /// Comments, processing instructions and whitespace outside the root element.
    mutating func misc() throws(ChainError) {
        while true {
            skipSpace()
            if starts(with: "<?") {
                try skip(past: "?>", what: "processing instruction")
            } else if starts(with: "<!--") {
                try skip(past: "-->", what: "comment")
            } else if starts(with: "<!DOCTYPE") {
                // A bare `<!DOCTYPE name [SYSTEM "..."]>` (GS1's examples carry `<!DOCTYPE project>`)
                // declares nothing; an internal subset could declare entities and is refused.
                while i < b.count, b[i] != UInt8(ascii: ">") {
                    guard b[i] != UInt8(ascii: "[") else {
                        throw fail("document type declarations with an internal subset are not accepted")
                    }
                    i += 1
                }
                guard i < b.count else { throw fail("unterminated document type declaration") }
                i += 1
            } else if starts(with: "<!") {
                throw fail("declarations are not accepted outside elements")
            } else {
                return
            }
        }
    }

    mutating func document() throws(ChainError) -> XMLTree {
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        try misc()
        guard i < b.count, b[i] == UInt8(ascii: "<") else { throw fail("no root element") }
        var scopes: [[String: String]] = [["xml": Self.xmlNamespace]]
        let root = try element(depth: 1, scopes: &scopes)
        try misc()
        guard i == b.count else { throw fail("content after the root element") }
        return root
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
            || c == 0x2E || c == 0x3A || c >= 0x80
    }

    mutating func name() throws(ChainError) -> String {
        let start = i
        while i < b.count, Self.isNameByte(b[i]) { i += 1 }
        guard i > start, !(b[start] >= 0x30 && b[start] <= 0x39), b[start] != 0x2D, b[start] != 0x2E else {
            throw fail("a name was expected")
        }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    static func split(_ qname: String) -> (prefix: String, local: String) {
        guard let c = qname.firstIndex(of: ":") else { return ("", qname) }
        return (String(qname[..<c]), String(qname[qname.index(after: c)...]))
    }

    /// Character data up to `<` (or the closing quote of an attribute), entities replaced.
    mutating func characters(until stop: UInt8) throws(ChainError) -> String {
        var out: [UInt8] = []
        while i < b.count, b[i] != stop {
            if b[i] == UInt8(ascii: "&") {
                out += try reference()
            } else if stop != UInt8(ascii: "<"), b[i] == UInt8(ascii: "<") {
                throw fail("'<' in an attribute value")
            } else {
                out.append(b[i])
                i += 1
            }
        }
        guard i < b.count else { throw fail("unexpected end of input") }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func reference() throws(ChainError) -> [UInt8] {
        i += 1
        let start = i
        while i < b.count, b[i] != UInt8(ascii: ";"), i - start < 12 { i += 1 }
        guard i < b.count, b[i] == UInt8(ascii: ";") else { throw fail("malformed entity reference") }
        let ref = String(decoding: b[start..<i], as: UTF8.self)
        i += 1
        switch ref {
        case "lt": return Array("<".utf8)
        case "gt": return Array(">".utf8)
        case "amp": return Array("&".utf8)
        case "quot": return Array("\"".utf8)
        case "apos": return Array("'".utf8)
        default:
            var scalar: UInt32?
            if ref.hasPrefix("#x") {
                scalar = UInt32(ref.dropFirst(2), radix: 16)
            } else if ref.hasPrefix("#") {
                scalar = UInt32(ref.dropFirst(1), radix: 10)
            }
            guard let v = scalar, v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v != 0xFFFE && v != 0xFFFF),
                let u = Unicode.Scalar(v)
            else { throw fail("unknown or invalid entity &\(ref);") }
            return Array(String(Character(u)).utf8)
        }
    }

    mutating func element(depth: Int, scopes: inout [[String: String]]) throws(ChainError) -> XMLTree {
        guard depth <= limits.maxDepth else { throw fail("elements nested deeper than \(limits.maxDepth)") }
        elements += 1
        guard elements <= limits.maxElements else { throw fail("more than \(limits.maxElements) elements") }
        i += 1  // "<"
        let qname = try name()
        var raw: [(String, String)] = []
        while true {
            let before = i
            skipSpace()
            guard i < b.count else { throw fail("unexpected end of input") }
            if b[i] == UInt8(ascii: ">") || b[i] == UInt8(ascii: "/") { break }
            guard i > before else { throw fail("whitespace expected before an attribute") }
            let attr = try name()
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "=") else { throw fail("'=' expected after attribute \(attr)") }
            i += 1
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") else {
                throw fail("quoted value expected for attribute \(attr)")
            }
            let quote = b[i]
            i += 1
            let value = try characters(until: quote)
            i += 1
            guard !raw.contains(where: { $0.0 == attr }) else { throw fail("attribute \(attr) repeated") }
            raw.append((attr, value))
            guard raw.count <= limits.maxAttributes else { throw fail("more than \(limits.maxAttributes) attributes") }
        }
        // Namespace declarations first: they apply to this element's own name and attributes.
        var scope = scopes.last ?? [:]
        var declarations: [(prefix: String, namespace: String)] = []
        for (n, v) in raw {
            if n == "xmlns" {
                scope[""] = v
                declarations.append(("", v))
            } else if n.hasPrefix("xmlns:") {
                let p = String(n.dropFirst(6))
                guard !v.isEmpty else { throw fail("namespace prefix \(p) bound to nothing") }
                scope[p] = v
                declarations.append((p, v))
            }
        }
        scopes.append(scope)
        defer { scopes.removeLast() }
        let (prefix, local) = Self.split(qname)
        guard let ns = prefix.isEmpty ? (scope[""] ?? "") : scope[prefix] else {
            throw fail("undeclared namespace prefix \(prefix)")
        }
        var node = XMLTree(
            namespace: ns, prefix: prefix, local: local, attributes: [], children: [], text: "", declarations: declarations)
        for (n, v) in raw where n != "xmlns" && !n.hasPrefix("xmlns:") {
            let (p, l) = Self.split(n)
            guard p.isEmpty || scope[p] != nil else { throw fail("undeclared namespace prefix \(p)") }
            let attrNS = p.isEmpty ? "" : scope[p] ?? ""
            guard !node.attributes.contains(where: { $0.namespace == attrNS && $0.local == l }) else {
                throw fail("attribute \(n) repeated")
            }
            node.attributes.append((attrNS, p, l, v))
        }
        if b[i] == UInt8(ascii: "/") {
            i += 1
            guard i < b.count, b[i] == UInt8(ascii: ">") else { throw fail("'>' expected") }
            i += 1
            return node
        }
        i += 1  // ">"
        var text = ""
        while true {
            text += try characters(until: UInt8(ascii: "<"))
            if starts(with: "</") {
                i += 2
                let end = try name()
                guard end == qname else { throw fail("</\(end)> closes <\(qname)>") }
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ">") else { throw fail("'>' expected") }
                i += 1
                node.text = text
                return node
            } else if starts(with: "<!--") {
                try skip(past: "-->", what: "comment")
            } else if starts(with: "<![CDATA[") {
                i += 9
                let start = i
                try skip(past: "]]>", what: "CDATA section")
                text += String(decoding: b[start..<(i - 3)], as: UTF8.self)
            } else if starts(with: "<?") {
                try skip(past: "?>", what: "processing instruction")
            } else if starts(with: "<!") {
                throw fail("declarations are not accepted inside elements")
            } else {
                node.children.append(try element(depth: depth + 1, scopes: &scopes))
            }
        }
    }
}
