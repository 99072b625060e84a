import CXSDShim
import ChainCore
import Foundation

/// GS1's EPCIS XML schemas (XSD), compiled once, that XML capture documents are checked against
/// before they are read (`POST /v1/epcis/capture` with `application/xml`). The directory has
/// GS1's layout: `2.0/EPCglobal-epcis-2_0.xsd` and `1.2/EPCglobal-epcis-1_2.xsd`, each beside the
/// files it imports (GS1 publishes them with the standard; node config `epcisXMLSchemas`).
/// A document in the EPCIS 2.0 namespace (`urn:epcglobal:epcis:xsd:2`) is checked against 2.0,
/// one in the 1.x namespace (`urn:epcglobal:epcis:xsd:1`) against 1.2.
public final class EPCISXMLSchemas: Sendable {
    /// A compiled schema; libxml2 only reads it once compiled, so validations may run at once.
    final class Compiled: @unchecked Sendable {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { xc_xsd_free(pointer) }
    }

    let v2: Compiled
    let v1: Compiled?
    /// Where they were read from.
    public let directory: URL

    /// Compiles the schemas of `directory` (`bad_config` when 2.0's is missing or does not
    /// compile; 1.2's is optional).
    public init(directory: URL) throws {
        self.directory = directory
        v2 = try Self.load(directory.appendingPathComponent("2.0/EPCglobal-epcis-2_0.xsd"))
        let old = directory.appendingPathComponent("1.2/EPCglobal-epcis-1_2.xsd")
        v1 = FileManager.default.fileExists(atPath: old.path) ? try Self.load(old) : nil
    }

    static func load(_ file: URL) throws -> Compiled {
        var err = [CChar](repeating: 0, count: 512)
        guard FileManager.default.fileExists(atPath: file.path), let p = xc_xsd_load(file.path, &err, err.count) else {
            throw ChainError(
                .badConfig,
                "epcisXMLSchemas: cannot compile \(file.path): \(String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
            )
        }
        return Compiled(p)
    }

    /// Checks `document` against the schema of its EPCIS version (`namespace`: the root
    /// element's); `epcis_invalid` with the schema's first complaint and its line otherwise.
    public func check(_ document: [UInt8], namespace: String) throws(ChainError) {
        let schema: Compiled
        let name: String
        if namespace.hasPrefix("urn:epcglobal:epcis:xsd:2") || namespace.hasPrefix("urn:epcglobal:epcis-query:xsd:2") {
            schema = v2
            name = "EPCIS 2.0"
        } else if namespace.hasPrefix("urn:epcglobal:epcis:xsd:1") || namespace.hasPrefix("urn:epcglobal:epcis-query:xsd:1") {
            guard let v1 else {
                throw ChainError(.epcisInvalid, "xml: EPCIS 1.x documents need GS1's 1.2 schema, which this node does not have")
            }
            schema = v1
            name = "EPCIS 1.2"
        } else {
            throw ChainError(.epcisInvalid, "xml: the root element is not in an EPCIS namespace (\(namespace.prefix(80)))")
        }
        var err = [CChar](repeating: 0, count: 600)
        let rc = document.withUnsafeBufferPointer { xc_xsd_validate(schema.pointer, $0.baseAddress, $0.count, &err, err.count) }
        guard rc != 0 else { return }
        let message = String(decoding: err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw ChainError(.epcisInvalid, "xml: not valid against GS1's \(name) schema: \(message)")
    }
}
