import ChainCore
import Foundation
import HTTPTypes
import Testing

@testable import API

/// The error catalogue is the one list of codes: names unique and snake_case, each with a status
/// that is not a fall-back, and `docs/errors.md` documents exactly these codes with these statuses.
@Suite struct ErrorCatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func everyCodeIsUniqueSnakeCaseAndListedOnce() throws {
        let names = ErrorCode.catalogue.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.range(of: "^[a-z][a-z0-9]*(_[a-z0-9]+)*$", options: .regularExpression) != nil, "\(name)")
        }
        // Every `static let … = ErrorCode(` of the catalogue file is in `catalogue`.
        let source = try String(
            contentsOf: Self.root.appendingPathComponent("Sources/ChainCore/ErrorCatalogue.swift"), encoding: .utf8)
        let declared = source.components(separatedBy: "public static let ").count - 2  // minus the header and `catalogue`
        #expect(declared == ErrorCode.catalogue.count)
        for code in ErrorCode.catalogue {
            #expect(ErrorCode(named: code.rawValue).kind == code.kind)
            #expect(!code.summary.isEmpty && !code.area.isEmpty)
        }
    }

    @Test func onlyFaultsAnswer500() {
        for code in ErrorCode.catalogue {
            let status = APIError.status(for: code).code
            #expect((status == 500) == (code.kind == .fault), "\(code.rawValue) → \(status)")
        }
    }

    @Test func theDocumentListsEveryCodeWithItsStatusAndMeaning() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        var documented: [String: (Int, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count == 5, let status = Int(cells[2]) else { continue }
            let code = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            #expect(documented[code] == nil, "\(code) documented twice")
            documented[code] = (status, cells[3])
        }
        for code in ErrorCode.catalogue {
            let row = documented.removeValue(forKey: code.rawValue)
            #expect(row?.0 == Int(APIError.status(for: code).code), "\(code.rawValue)")
            #expect(row?.1 == code.summary, "\(code.rawValue)")
        }
        #expect(documented.isEmpty, "documented but not in the catalogue: \(documented.keys.sorted())")
    }
}
