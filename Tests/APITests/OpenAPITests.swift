import ChainTesting
import Foundation
import Hummingbird
import Testing

@testable import API

/// `docs/openapi.yaml` lists exactly the routes the router serves (method and path).
@Suite struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `METHOD /path/{param}` of every operation under `paths:` (two-space path keys, four-space methods).
    static func documented() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        var out = Set<String>()
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if !line.hasPrefix(" "), !line.isEmpty { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "patch", "delete"].contains(method) { out.insert("\(method.uppercased()) \(path)") }
            }
        }
        return out
    }

    @Test func theDocumentListsExactlyTheRoutesOfTheRouter() async throws {
        try await withTemporaryDirectory { dir in
            let node = try TestConsortium().node(in: dir)
            let routes = Set(
                ChainAPI(node: node).router().routes.map { r in
                    let path = r.path.description.split(separator: "/").map { part in
                        part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
                    }.joined(separator: "/")
                    return "\(r.method.rawValue) /\(path)"
                })
            let documented = try Self.documented()
            #expect(
                routes.subtracting(documented).isEmpty, "served but not documented: \(routes.subtracting(documented).sorted())")
            #expect(
                documented.subtracting(routes).isEmpty, "documented but not served: \(documented.subtracting(routes).sorted())")
            #expect(routes.count > 30)
        }
    }
}
