import ChainCore
import ChainTesting
import Foundation

/// Shared test material (`EPCISSchemaCheck.testdata`: `<root>/shared/testdata/epcis` beside the checkout, or `$XC_SHARED_TESTDATA/epcis`).
enum EPCISTestData {
    static let root: URL = EPCISSchemaCheck.testdata

    /// Paths (relative to `root`) of the JSON files under `folder`, recursively, sorted.
    static func files(_ folder: String) -> [String] {
        let base = root.appendingPathComponent(folder)
        guard let e = FileManager.default.enumerator(atPath: base.path) else { return [] }
        return e.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") || $0.hasSuffix(".jsonld") }.sorted()
            .map { folder + "/" + $0 }
    }

    static func data(_ path: String) throws -> Data { try Data(contentsOf: root.appendingPathComponent(path)) }

    /// The file parsed strictly; files that repeat an object key (one GS1 example,
    /// `AssociationEvent-h.jsonld`, repeats `eventID`) are read with Foundation instead, which keeps
    /// one of the values — the chain itself refuses such bytes at the transaction layer.
    static func json(_ path: String) throws -> JSONValue {
        let bytes = try data(path)
        do {
            return try JSONParser().parse(Array(bytes))
        } catch  where error.message.contains("duplicate key") {
            return convert(try JSONSerialization.jsonObject(with: bytes))
        }
    }

    static func convert(_ any: Any) -> JSONValue {
        switch any {
        case let s as String: return .string(s)
        case let n as NSNumber:
            if String(cString: n.objCType) == "c" { return .bool(n.boolValue) }
            return .number(n.stringValue)
        case let a as [Any]: return .array(a.map(convert))
        case let o as [String: Any]: return .object(o.mapValues(convert))
        default: return .null
        }
    }

    static func lines(_ path: String) throws -> [String] {
        String(decoding: try data(path), as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.isEmpty }
    }
}
