import ArgumentParser
import ChainCore
import Foundation
import Identity
import Node

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Minimal HTTP calls to a node's API.
enum APIClient {
    static func get(_ url: URL) async throws -> (Int, [UInt8]) {
        let (data, response) = try await URLSession.shared.data(from: url)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
    }

    static func post(_ url: URL, json: [UInt8]) async throws -> (Int, [UInt8]) {
        var req = URLRequest(url: url)
        req.httpMethod = "POST"
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        req.httpBody = Data(json)
        req.timeoutInterval = 60
        let (data, response) = try await URLSession.shared.data(for: req)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
    }
}

struct TxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tx", abstract: "Sign a transaction with an identity, submit it, wait for commit and print the result.")

    @Option(help: "Identity directory holding key.pem and cert.pem.") var identity: String
    @Option(help: "Contract name.") var contract: String
    @Option(help: "Method name.") var method: String
    @Option(help: "Arguments, a JSON object.") var args: String = "{}"
    @Option(help: "Read the arguments (a JSON object) from this file instead.") var argsFile: String?
    @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"
    @Flag(help: "Return once accepted instead of waiting for commit.") var noWait = false

    func run() async throws {
        let signer = try SigningIdentity(directory: URL(fileURLWithPath: identity))
        let argsBytes = try argsFile.map { Array(try Data(contentsOf: URL(fileURLWithPath: $0))) } ?? Array(args.utf8)
        let argsValue = try JSONParser().parse(argsBytes)
        guard case .object = argsValue else { throw ValidationError("--args must be a JSON object") }
        guard let base = URL(string: node) else { throw ValidationError("--node is not a URL") }
        let (code, statusBytes) = try await APIClient.get(base.appendingPathComponent("v1/status"))
        guard code == 200, let chain = try JSONParser().parse(statusBytes)["chainId"]?.stringValue else {
            throw ChainError(.nodeUnavailable, "cannot read chain id from \(node)/v1/status (HTTP \(code))")
        }
        let tx = try signer.transaction(chain: chain, contract: contract, method: method, args: argsValue)
        let envelope = try JSONEncoder().encode(TransactionSubmission(tx))
        var url = base.appendingPathComponent("v1/txs")
        if !noWait { url = URL(string: url.absoluteString + "?wait=commit")! }
        let (status, body) = try await APIClient.post(url, json: Array(envelope))
        print(String(decoding: body, as: UTF8.self))
        guard (200..<300).contains(status) else { throw ExitCode(1) }
        if let s = try? JSONParser().parse(body)["status"]?.stringValue, s == "failed" { throw ExitCode(2) }
    }
}

struct VerifyProofCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check a transaction proof offline: audit path, header hash, and (with --genesis) the validators' signatures.")

    @Argument(help: "Proof JSON file from GET /v1/txs/{txid}/proof, or - for stdin.") var file: String = "-"
    @Option(help: "Genesis file whose validators must have signed the block.") var genesis: String?

    func run() async throws {
        let data: Data
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        }
        let proof = try JSONParser().parse(Array(data))
        var suite = CryptoSuite.ed25519
        var keys: [String: [UInt8]]?
        var quorum = 1
        var chainId: String?
        if let genesis {
            let g = try Genesis.load(from: URL(fileURLWithPath: genesis))
            suite = g.suite
            keys = try g.validatorKeys()
            quorum = g.quorum
            chainId = g.chainId
        }
        let report = try ProofVerifier.verify(
            proof: proof, suite: suite, validatorKeys: keys, quorum: quorum, chainId: chainId)
        print("OK: transaction \(report.txid) is included in block \(report.height)")
        if report.signaturesChecked {
            print("   sealed by \(report.validSigners.joined(separator: ", ")) (quorum \(quorum))")
        } else {
            print("   signatures NOT checked: pass --genesis to check them against the chain's validators")
        }
    }
}
