import ContractModules
import Foundation

/// The WebAssembly modules the tests run: the shipped ones (`sanzi`, `counter`, from
/// `ContractModules`) and the test-only samples committed in `contracts/build/` (`probe`, `loop`,
/// `trap`, `membomb`, `recursion`, `floats`, `forbidden`), all built from `contracts/` with the SDK.
public enum ContractFixtures {
    /// The repository's root directory.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `contracts/` in the repository.
    public static var contractsDirectory: URL { repositoryRoot.appendingPathComponent("contracts") }

    /// The committed module `name`.
    public static func module(_ name: String) throws -> [UInt8] {
        if let shipped = ContractModules.bytes(name) { return shipped }
        let url = contractsDirectory.appendingPathComponent("build").appendingPathComponent("\(name).wasm")
        return [UInt8](try Data(contentsOf: url))
    }
}
