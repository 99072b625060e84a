import Foundation

/// WebAssembly modules built from `contracts/` with the SDK and committed (`contracts/build-all.sh`
/// rebuilds them; CI checks that rebuilding gives the same bytes): the 三资 contract (`sanzi`) and
/// the counter, for the demo, the benchmark and the tests.
public enum ContractModules {
    /// The module `name` (`sanzi`, `counter`), or nil when there is none.
    public static func bytes(_ name: String) -> [UInt8]? {
        guard let url = Bundle.module.url(forResource: name, withExtension: "wasm", subdirectory: "Modules"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return [UInt8](data)
    }
}
