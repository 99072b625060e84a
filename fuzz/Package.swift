// swift-tools-version:6.1
import PackageDescription

// The libFuzzer harness of XiangChain's decoders (docs/fuzzing.md), kept out of the main
// package's build: only `scripts/fuzz` builds it, with `-sanitize=fuzzer`. The decoders' entry
// points are the main package's `FuzzTargets`, which `FuzzCorpusTests` also replays.
let package = Package(
    name: "XiangChainFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "xiangchain", path: "..")
    ],
    targets: [
        // The C entry point that hands the command line to libFuzzer's driver.
        .target(name: "FuzzMain", path: "Sources/FuzzMain"),
        .executableTarget(
            name: "xiangchain-fuzz",
            dependencies: ["FuzzMain", .product(name: "FuzzTargets", package: "xiangchain")],
            path: "Sources/XiangChainFuzz",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny"), .enableUpcomingFeature("MemberImportVisibility")]
        ),
    ]
)
