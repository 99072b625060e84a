// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of XiangChain's hot paths, kept out of the main package's build.
// Run from this directory: `swift package benchmark` (see docs/performance.md).
let package = Package(
    name: "XiangChainBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "xiangchain", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "XiangChainBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "ChainCore", package: "xiangchain"),
                .product(name: "Consensus", package: "xiangchain"),
                .product(name: "Node", package: "xiangchain"),
                .product(name: "ChainTesting", package: "xiangchain"),
            ],
            path: "Benchmarks/XiangChainBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ]
)
