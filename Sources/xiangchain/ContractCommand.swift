import ArgumentParser
import ChainClient
import ChainCore
import ContractSDK
import Foundation
import Identity

/// `xiangchain contract build | deploy | call | show`: WebAssembly contracts (`docs/contracts.md`).
struct ContractCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract", abstract: "Build, deploy, call and show WebAssembly contracts.",
        subcommands: [Build.self, Deploy.self, Call.self, Show.self])

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compile Embedded Swift contract sources with the SDK into a WebAssembly module.")
        @Argument(help: "The contract's Swift sources (they define dispatch(_:)).") var sources: [String]
        @Option(name: .shortAndLong, help: "The module to write.") var output: String
        @Option(help: "The swiftc to use (default: $SWIFTC, else the first on PATH).") var swiftc: String?

        func run() async throws {
            let toolchain = try ContractSDK.Toolchain.find(swiftc: swiftc)
            let bytes = try ContractSDK.build(sources: sources.map { URL(fileURLWithPath: $0) }, toolchain: toolchain)
            try Data(bytes).write(to: URL(fileURLWithPath: output))
            print("built \(output) (\(bytes.count) bytes, sha256 \(ContractUpload.hash(bytes)))")
        }
    }

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a module in parts and deploy (or upgrade) a named contract running it.")
        @Argument(help: "The module (.wasm).") var module: String
        @Option(help: "Contract name (1–64 of a-z, 0-9, '_', '-').") var name: String
        @Option(help: "Identity directory of a signer the chain lets deploy.") var identity: String
        @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"
        @Flag(help: "Replace the code of an existing contract (its state is kept).") var upgrade = false

        func run() async throws {
            let code = [UInt8](try Data(contentsOf: URL(fileURLWithPath: module)))
            let signer = try SigningIdentity(directory: URL(fileURLWithPath: identity))
            let client = try ChainClient(node)
            let chain = try await client.chainId()
            for tx in try ContractUpload.uploads(code, signer: signer, chain: chain) {
                let outcome = try await client.submitAndWait(tx)
                if let error = outcome.error { throw error }
            }
            let hash = ContractUpload.hash(code)
            let outcome = try await client.submitAndWait(
                try ContractUpload.deploy(name: name, hash: hash, upgrade: upgrade, signer: signer, chain: chain))
            if let error = outcome.error { throw error }
            print("\(upgrade ? "upgraded" : "deployed") \(name): code \(hash), block \(outcome.height ?? 0)")
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a method of a contract as a transaction, or with --query read-only.")
        @Argument(help: "Contract name.") var name: String
        @Argument(help: "Method.") var method: String
        @Option(help: "Arguments, a JSON object.") var args: String = "{}"
        @Option(help: "Identity directory (not needed with --query).") var identity: String?
        @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"
        @Flag(help: "Run a read-only query against committed state instead of a transaction.") var query = false

        func run() async throws {
            let value = try JSONParser().parse(Array(args.utf8))
            guard case .object = value else { throw ValidationError("--args must be a JSON object") }
            let client = try ChainClient(node)
            if query {
                let body = JSONValue.object(["method": .string(method), "args": value]).canonicalBytes
                let reply = try await client.post("/v1/wasm/contracts/\(name)/query", body: body)
                print(String(decoding: reply.body, as: UTF8.self))
                guard reply.succeeded else { throw ExitCode(1) }
                return
            }
            guard let identity else { throw ValidationError("give --identity, or --query") }
            let signer = try SigningIdentity(directory: URL(fileURLWithPath: identity))
            let outcome = try await client.submitAndWait(
                try ContractUpload.call(
                    name: name, method: method, args: value, signer: signer, chain: try await client.chainId()))
            if let error = outcome.error { throw error }
            print("committed \(outcome.txid) in block \(outcome.height ?? 0)")
            // The call's result value is recorded with the transaction (none: the contract returned null).
            if let result = try await client.transaction(outcome.txid)?["result"] {
                print(String(decoding: result.canonicalBytes, as: UTF8.self))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a contract's record (code hash, version, frozen).")
        @Argument(help: "Contract name.") var name: String
        @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"

        func run() async throws {
            let reply = try await ChainClient(node).fetch("/v1/wasm/contracts/\(name)")
            print(String(decoding: reply.body, as: UTF8.self))
            guard reply.succeeded else { throw ExitCode(1) }
        }
    }
}
