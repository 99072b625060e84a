import ArgumentParser
import ChainClient
import ChainCore
import Foundation
import Identity
import Node

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
        let client = try ChainClient(node)
        let tx = try signer.transaction(chain: try await client.chainId(), contract: contract, method: method, args: argsValue)
        let envelope = try JSONEncoder().encode(TransactionSubmission(tx))
        let reply = try await client.post(noWait ? "/v1/txs" : "/v1/txs?wait=commit", body: Array(envelope))
        print(String(decoding: reply.body, as: UTF8.self))
        guard reply.succeeded else { throw ExitCode(1) }
        if reply.json?["status"]?.stringValue == "failed" { throw ExitCode(2) }
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
            let epochs = proof["epochs"]?.arrayValue?.count ?? 0
            if epochs > 0 {
                print(
                    "   following \(epochs) validator-set change\(epochs == 1 ? "" : "s") from the genesis, each signed by the set before it"
                )
            }
            print(
                "   sealed by \(report.validSigners.joined(separator: ", ")) (quorum \(epochs > 0 ? "of the block's epoch" : String(quorum)))"
            )
        } else {
            print("   signatures NOT checked: pass --genesis to check them against the chain's validators")
        }
    }
}
