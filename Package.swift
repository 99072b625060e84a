// swift-tools-version:6.1
import PackageDescription

/// One settings list for every target: Swift 6 language mode is the package default;
/// these upcoming features keep imports and existentials explicit.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "xiangchain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "xiangchain", targets: ["xiangchain"]),
        .library(name: "ChainCore", targets: ["ChainCore"]),
        // For the micro-benchmarks package in Benchmarks/, which depends on this one by path.
        .library(name: "Consensus", targets: ["Consensus"]),
        .library(name: "Node", targets: ["Node"]),
        .library(name: "ChainTesting", targets: ["ChainTesting"]),
        // For the fuzzing package in fuzz/, built with libFuzzer only by scripts/fuzz.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Pinned exactly: fuel costs and the call-depth limit of WebAssembly contracts follow from
        // WasmKit's translator, so they are consensus rules and change only by a deliberate upgrade.
        .package(url: "https://github.com/swiftwasm/WasmKit.git", exact: "0.4.2"),
    ],
    targets: [
        .target(
            name: "ChainCore",
            dependencies: ["CSMShim", "CSodium", "CEd25519", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // Ed25519 verification, one signature or a batch, under RFC 8032's cofactored equation
        // (`Ed25519Verification`); libsodium gives it SHA-512, random weights and scalar arithmetic.
        // Optimised in debug builds too: unoptimised, its field arithmetic is four times slower
        // (214 µs a signature against 54), and debug builds run every test's transactions.
        .target(
            name: "CEd25519", dependencies: ["CSodium"],
            cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]
        ),
        // The system's libsodium (Debian: libsodium-dev), for Ed25519 verification
        // (`Ed25519Verification`: strict about keys of small order, and faster than BoringSSL's).
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // The system's OpenSSL 3 libcrypto (Debian: libssl-dev), for SM2, SM3, SM4 and SM2
        // certificates (GB/T 32918, 32905, 32907); found through pkg-config, as CQREncode is.
        .systemLibrary(
            name: "CSMOpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // Plain C functions over OpenSSL's EVP API: the only code that calls OpenSSL. ChainCore
        // (SM2 keys, SM3, SM4) and Identity (SM2 certificates) wrap it.
        .target(
            name: "CSMShim",
            dependencies: ["CSMOpenSSL"],
            cSettings: [.define("OPENSSL_API_COMPAT", to: "30000"), .define("OPENSSL_NO_DEPRECATED")]
        ),
        // Test-only C helpers: the SM2 signature with a chosen k of the standards' examples
        // (OpenSSL's EC/BN primitives), the SM4 million-round vector, foreign signatures.
        .target(
            name: "CSMTestSupport",
            dependencies: ["CSMOpenSSL"],
            cSettings: [.define("OPENSSL_API_COMPAT", to: "30000"), .define("OPENSSL_NO_DEPRECATED")]
        ),
        .testTarget(
            name: "GMCryptoTests",
            dependencies: ["ChainCore", "Identity", "CSMTestSupport", "ChainTesting"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Consensus",
            dependencies: ["ChainCore"],
            swiftSettings: swiftSettings
        ),
        // Named P2P, not Network: a module called Network makes `canImport(Network)` true and
        // Hummingbird then imports Apple's Network framework (NIOTransportServices) on Linux.
        .target(
            name: "P2P",
            dependencies: [
                "ChainCore", "Identity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Network",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Identity",
            dependencies: [
                "ChainCore", "CSMShim",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Storage",
            dependencies: [
                "ChainCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Execution",
            dependencies: [
                "ChainCore", "Identity", "Storage",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WasmParser", package: "WasmKit"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Embedded Swift SDK for WebAssembly contracts (sdk/Embedded, shipped as resources) and
        // the builder behind `xiangchain contract build`.
        .target(
            name: "ContractSDK",
            dependencies: ["ChainCore"],
            path: "sdk",
            exclude: ["README.md", "build-contract.sh"],
            sources: ["ContractSDK.swift"],
            resources: [.copy("Embedded")],
            swiftSettings: swiftSettings
        ),
        // WebAssembly modules built from contracts/ and committed (the 三资 contract, the counter),
        // shipped for the demo and the benchmark.
        .target(
            name: "ContractModules",
            resources: [.copy("Modules")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WasmTests",
            dependencies: [
                "Execution", "ChainTesting", "ChainCore", "Identity", "ContractSDK", "ContractModules", "Node", "Storage",
                "EvidenceContract", "CrabTraceContract", .product(name: "WAT", package: "WasmKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GovernanceContract",
            dependencies: ["ChainCore", "Execution", "Identity"],
            path: "Sources/Contracts/Governance",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EvidenceContract",
            dependencies: ["ChainCore", "Execution"],
            path: "Sources/Contracts/Evidence",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Node",
            dependencies: [
                "ChainCore", "Identity", "Storage", "Execution", "Consensus", "P2P", "ChainClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one client of the node's HTTP API (CLI, demo, bench, observers, tests).
        .target(
            name: "ChainClient",
            dependencies: [
                "ChainCore", "Identity",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one way node processes are started (devnet, bench, tests).
        // posix_spawn with the file actions Swift's Glibc module does not import (closefrom).
        .target(name: "CSpawn"),
        .target(
            name: "Launcher",
            dependencies: ["ChainCore", "ChainClient", "Node", "Identity", "CSpawn"],
            swiftSettings: swiftSettings
        ),
        // Assembles a node from its home: configuration → services → ServiceGroup; owns the
        // chain's contract set.
        .target(
            name: "NodeRuntime",
            dependencies: [
                "ChainCore", "Identity", "Storage", "Execution", "Node", "API", "Consensus", "P2P", "Accounts",
                "EvidenceContract", "CrabTraceContract", "EPCISContract", "GovernanceContract",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The crab season demo (`devnet --demo`, `demo`).
        .target(
            name: "Demo",
            dependencies: [
                "ChainCore", "Identity", "Node", "NodeRuntime", "Accounts", "CrabTraceContract", "ChainClient", "Launcher",
                "ContractModules",
            ],
            swiftSettings: swiftSettings
        ),
        // `xiangchain bench`.
        .target(
            name: "Bench",
            dependencies: [
                "ChainCore", "Identity", "Node", "CrabTraceContract", "ChainClient", "Launcher", "Execution", "ContractModules",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Accounts",
            dependencies: [
                "ChainCore", "Identity",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AccountsTests",
            dependencies: [
                "Accounts", "ChainTesting", "ChainCore", "Identity", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "API",
            dependencies: [
                "ChainCore", "Identity", "Storage", "Execution", "Node", "Consensus", "EPCIS", "EPCISContract",
                "CrabTraceContract", "Accounts", "CodeSheet", "GovernanceContract", "CXSDShim",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The web console (static HTML, CSS and ES modules), served outside /v1 by ConsoleFiles.
            resources: [.copy("Console")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChainTesting",
            dependencies: [
                "ChainCore", "Consensus", "Identity", "Storage", "Execution", "Node", "EvidenceContract", "ChainClient",
                "Launcher", "ContractModules", "CSodium",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "xiangchain",
            dependencies: [
                "ChainCore", "Identity", "Node", "NodeRuntime", "Demo", "Bench", "Launcher", "ChainClient", "CodeSheet",
                "CrabTraceContract", "Accounts", "GovernanceContract", "ContractSDK",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The decoders of outside bytes as fuzzing entry points (docs/fuzzing.md): the libFuzzer
        // harnesses in fuzz/ call them, and FuzzCorpusTests replays the committed corpora.
        .target(
            name: "FuzzTargets",
            dependencies: ["ChainCore", "Consensus", "Identity", "EPCIS"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FuzzCorpusTests",
            dependencies: ["FuzzTargets", "ChainCore", "Consensus", "Identity"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GovernanceTests",
            dependencies: [
                "GovernanceContract", "EvidenceContract", "ChainTesting", "Execution", "Identity", "ChainCore", "Node", "Storage",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChainCoreTests",
            dependencies: ["ChainCore", "ChainTesting", "CSodium", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConsensusTests",
            dependencies: ["Consensus", "ChainTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NetworkTests",
            dependencies: [
                "P2P", "ChainTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IdentityTests",
            dependencies: ["Identity", "ChainTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "ChainTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExecutionTests",
            dependencies: [
                "Execution", "EvidenceContract", "ChainTesting", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchTests",
            dependencies: ["Bench", "ChainCore", "ChainTesting", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NodeTests",
            dependencies: [
                "Node", "Consensus", "ChainTesting", "Identity", "Storage", "GovernanceContract", "EvidenceContract", "Execution",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Node", "ChainTesting", "ChainCore", "Identity", "EPCISContract", "CrabTraceContract", "EvidenceContract",
                "Accounts", "NodeRuntime", "Execution",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProcessTests",
            dependencies: [
                "ChainCore", "ChainClient", "ChainTesting", "Identity", "Node", "CrabTraceContract", "Storage", "API",
                "ContractModules", "Consensus", "P2P",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CrabTraceContract",
            dependencies: ["ChainCore", "Execution", "Identity", "EPCIS"],
            path: "Sources/Contracts/CrabTrace",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CrabTraceTests",
            dependencies: ["CrabTraceContract", "ChainTesting", "Execution", "Identity", "Storage", "ChainCore", "EPCIS"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EPCIS",
            dependencies: ["ChainCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/EPCIS",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "EPCISContract",
            dependencies: ["EPCIS", "ChainCore", "Execution", "Identity"],
            path: "Sources/Contracts/EPCIS",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EPCISTests",
            dependencies: ["EPCIS", "EPCISContract", "ChainTesting", "Execution", "Identity", "Storage", "ChainCore"],
            // Reference vectors read from the source tree by path (see Vectors/README.md).
            exclude: ["Vectors"],
            swiftSettings: swiftSettings
        ),
        // Debian's libqrencode, seen from Swift through a module map; CodeSheet wraps it.
        // The system's libxml2 (Debian: libxml2-dev), for checking EPCIS XML captures against
        // GS1's XML schemas; CXSDShim is the only code that calls it.
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(name: "CXSDShim", dependencies: ["CLibXML2"]),
        .systemLibrary(
            name: "CQREncode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // QR label sheets, and the crab contract's code batches printed on them.
        .target(
            name: "CodeSheet",
            dependencies: ["CQREncode", "ChainCore", "CrabTraceContract"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CodeSheetTests",
            dependencies: ["CodeSheet", "ChainCore", "CrabTraceContract"],
            swiftSettings: swiftSettings
        ),
    ]
)
