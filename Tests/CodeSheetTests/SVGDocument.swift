import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An SVG file parsed with Foundation's `XMLParser`: well-formedness plus the parts tests look at.
final class SVGDocument: NSObject, XMLParserDelegate {
    struct Element {
        let name: String
        let attributes: [String: String]
        var text = ""
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []

    init(_ text: String) throws {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw Malformed(
                description: "line \(parser.lineNumber): \(parser.parserError.map { "\($0)" } ?? "unknown error")"
            )
        }
    }

    func elements(named name: String) -> [Element] { elements.filter { $0.name == name } }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        open.append(elements.count)
        elements.append(Element(name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    /// The modules an SVG path of `M x yhNv1h-Nz` runs paints, as `x,y` pairs in path units.
    static func modules(ofPath d: String) throws -> Set<[Int]> {
        var result: Set<[Int]> = []
        for run in d.split(separator: "M") {
            // "x yhWv1h-Wz": a W × 1 rectangle from (x, y).
            let parts = run.split(whereSeparator: { " hvz".contains($0) })
            guard parts.count == 5, let x = Int(parts[0]), let y = Int(parts[1]), let width = Int(parts[2]),
                width > 0, parts[3] == "1", parts[4] == "-\(width)", run.hasSuffix("z")
            else { throw Malformed(description: "unexpected path run \(run)") }
            for dx in 0..<width { result.insert([x + dx, y]) }
        }
        return result
    }
}
