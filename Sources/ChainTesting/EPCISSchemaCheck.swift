import ChainCore
import Foundation

/// The shared EPCIS test material beside the checkout (`<root>/shared/testdata/epcis`), and a
/// check of documents against the official GS1 EPCIS 2.0 JSON Schema with Python `jsonschema`.
public enum EPCISSchemaCheck {
    /// The EPCIS test material: `$XC_SHARED_TESTDATA/epcis` when that is set (`.ci/run` sets it for
    /// a checkout that does not sit beside `shared/`), else `<root>/shared/testdata/epcis`, where
    /// `<root>` holds this project's checkout.
    public static let testdata: URL = {
        if let dir = ProcessInfo.processInfo.environment["XC_SHARED_TESTDATA"], !dir.isEmpty {
            return URL(fileURLWithPath: dir).appendingPathComponent("epcis")
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/testdata/epcis")
    }()

    /// The schema violations of `document` (empty when it validates, draft-07 with format
    /// checking), or nil when python3, jsonschema or the schema file is missing here (CI has them).
    public static func errors(_ document: JSONValue) throws -> [String]? {
        let schema = testdata.appendingPathComponent("gs1/EPCIS-JSON-Schema.json").path
        guard FileManager.default.fileExists(atPath: schema), run(["python3", "-c", "import jsonschema"]).status == 0 else {
            return nil
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xc-epcis-\(UUID().uuidString).json")
        try Data(document.canonicalBytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
            v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
            for e in v.iter_errors(doc): print(e.message[:300], list(e.path))
            """
        let (status, output) = run(["python3", "-c", script, schema, file.path])
        guard status == 0 else { return ["the schema check itself failed: \(output)"] }
        return output.split(separator: "\n").map(String.init)
    }

    static func run(_ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        do {
            try p.run()
        } catch {
            return (-1, "\(error)")
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, output)
    }
}
