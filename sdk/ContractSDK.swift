import ChainCore
import Foundation

/// The Embedded Swift SDK for WebAssembly contracts (`sdk/Embedded`, shipped inside the
/// `xiangchain` binary) and the builder behind `xiangchain contract build`, which compiles a
/// contract with it using nothing but the Swift toolchain: `swiftc` with Embedded Swift and the
/// `wasm32-unknown-none-wasm` target, the toolchain's `clang` and its `wasm-ld` (`docs/contracts.md`).
///
/// Builds are reproducible: the SDK and the contract's sources are copied under fixed names into a
/// fresh directory first, so the same sources and toolchain give the same bytes wherever they live.
public enum ContractSDK {
    /// The SDK's files, compiled into every contract.
    public static let files = ["XCContract.swift", "XCHost.swift", "XCJSON.swift", "XCSupport.swift", "xc_heap.c"]

    /// The directory holding the SDK's files (inside the binary's resource bundle).
    public static var directory: URL? {
        Bundle.module.url(forResource: "Embedded", withExtension: nil)
    }

    /// The compiler flags of a contract's Swift sources.
    public static let swiftFlags = [
        "-target", "wasm32-unknown-none-wasm", "-enable-experimental-feature", "Embedded", "-enable-experimental-feature",
        "Extern", "-wmo", "-Osize", "-parse-as-library", "-Xfrontend", "-disable-stack-protector", "-module-name", "Contract",
    ]

    /// The linker flags. `--stack-first` puts the 64 KiB shadow stack at the bottom of memory, so
    /// overflowing it traps instead of overwriting static data; the 512 KiB initial memory holds a
    /// typical call's heap, so most calls never grow memory and the runtime can reuse the instance
    /// (it resets memory and the exported stack pointer between calls).
    public static let linkFlags = [
        "--no-entry", "--stack-first", "-z", "stack-size=65536", "--initial-memory=524288", "--gc-sections", "--strip-all",
        "--export=xc_call", "--export=xc_alloc", "--export=__stack_pointer",
    ]

    /// The programs a build runs.
    public struct Toolchain: Sendable {
        /// `swiftc`.
        public let swiftc: URL
        /// The toolchain's `clang` (for the SDK's one C file).
        public let clang: URL
        /// The toolchain's `wasm-ld`.
        public let wasmLD: URL
        /// `lib/swift/embedded/wasm32-unknown-none-wasm` of the toolchain (the Unicode data tables).
        public let embeddedLibrary: URL

        /// The toolchain of `swiftc` (the `SWIFTC` environment variable, else the first `swiftc`
        /// on `PATH`); `clang` and `wasm-ld` are taken from the same directory.
        public static func find(swiftc given: String? = nil) throws(ChainError) -> Toolchain {
            let environment = ProcessInfo.processInfo.environment
            var path = given ?? environment["SWIFTC"]
            if path == nil {
                for dir in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
                    let candidate = "\(dir)/swiftc"
                    if FileManager.default.isExecutableFile(atPath: candidate) {
                        path = candidate
                        break
                    }
                }
            }
            guard let path, FileManager.default.isExecutableFile(atPath: path) else {
                throw ChainError(.buildFailed, "no swiftc found: install the Swift toolchain or set SWIFTC")
            }
            // Run swiftc by its own name (it is a link to swift-driver, which picks its mode from
            // the name), but find the rest of the toolchain beside the file it links to.
            let swiftc = URL(fileURLWithPath: path)
            let bin = swiftc.resolvingSymlinksInPath().deletingLastPathComponent()
            let toolchain = Toolchain(
                swiftc: swiftc, clang: bin.appendingPathComponent("clang"), wasmLD: bin.appendingPathComponent("wasm-ld"),
                embeddedLibrary: bin.deletingLastPathComponent().appendingPathComponent(
                    "lib/swift/embedded/wasm32-unknown-none-wasm"))
            for tool in [toolchain.clang, toolchain.wasmLD] where !FileManager.default.isExecutableFile(atPath: tool.path) {
                throw ChainError(.buildFailed, "the toolchain of \(swiftc.path) has no \(tool.lastPathComponent)")
            }
            let tables = toolchain.embeddedLibrary.appendingPathComponent("libswiftUnicodeDataTables.a")
            guard FileManager.default.fileExists(atPath: tables.path) else {
                throw ChainError(
                    .buildFailed, "the toolchain of \(swiftc.path) has no Embedded Swift for wasm32 (\(tables.path) is missing)")
            }
            return toolchain
        }
    }

    /// Compiles the contract `sources` (Embedded Swift files defining `dispatch(_:)`) with the SDK
    /// into a WebAssembly module; throws `build_failed` with the compiler's output.
    public static func build(sources: [URL], toolchain: Toolchain) throws -> [UInt8] {
        guard !sources.isEmpty else { throw ChainError(.buildFailed, "no contract sources given") }
        guard let sdk = directory else { throw ChainError(.buildFailed, "the SDK files are missing from this build") }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("xc-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        for file in files {
            try FileManager.default.copyItem(at: sdk.appendingPathComponent(file), to: work.appendingPathComponent(file))
        }
        var contractFiles: [String] = []
        for (i, source) in sources.enumerated() {
            guard FileManager.default.fileExists(atPath: source.path) else {
                throw ChainError(.buildFailed, "no such file: \(source.path)")
            }
            let name = "contract\(i).swift"
            try FileManager.default.copyItem(at: source, to: work.appendingPathComponent(name))
            contractFiles.append(name)
        }
        let swiftFiles = files.filter { $0.hasSuffix(".swift") }.sorted() + contractFiles
        // The compiler's messages name the copies: name the author's files instead.
        let renames = zip(contractFiles, sources.map(\.path)).map { ($0, $1) }
        try run(toolchain.swiftc, swiftFlags + swiftFiles + ["-c", "-o", "contract.o"], in: work, renaming: renames)
        try run(
            toolchain.clang,
            ["--target=wasm32-unknown-unknown", "-O2", "-ffreestanding", "-nostdlib", "-c", "xc_heap.c", "-o", "xc_heap.o"],
            in: work)
        try run(
            toolchain.wasmLD,
            ["contract.o", "xc_heap.o", toolchain.embeddedLibrary.appendingPathComponent("libswiftUnicodeDataTables.a").path]
                + ["-o", "contract.wasm"] + linkFlags, in: work)
        return [UInt8](try Data(contentsOf: work.appendingPathComponent("contract.wasm")))
    }

    /// Runs a tool in `directory`; throws `build_failed` with its output when it fails.
    static func run(_ tool: URL, _ arguments: [String], in directory: URL, renaming: [(String, String)] = []) throws {
        let (status, text) = try ChildProcess.run(tool, arguments, in: directory)
        guard status == 0 else {
            var shown = String(decoding: text.prefix(16 * 1024), as: UTF8.self)
            for (copy, original) in renaming {
                shown = shown.replacingOccurrences(of: directory.appendingPathComponent(copy).path, with: original)
                shown = shown.replacingOccurrences(of: copy, with: original)
            }
            throw ChainError(
                .buildFailed,
                "\(tool.lastPathComponent) failed (status \(status)):\n\(shown)")
        }
    }
}
