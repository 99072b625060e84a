import ChainClient
import ChainCore
import ContractModules
import Execution
import Foundation
import Identity
import Node

/// The `wasm` workload of `xiangchain bench`: the committed 三资 module (`sanzi`) is uploaded and
/// deployed by org0's admin and one village registered before the measured window; the measured
/// mix per 4 transactions is 2 spending requests below the approval threshold (approved at once),
/// 1 register entry (equipment) and 1 expense booked below the threshold, each a `wasm.call` by the
/// village's clerk with ids of its own. Fuel is deterministic: `fuelPerTransaction` runs the same
/// calls through the runtime in this process (no chain, no load) and reports what each method used.
enum WasmWorkload {
    static let contract = "sanzi"
    static let village = "org1"
    static let township = "org2"

    /// Deploys the contract on the running network, registers the village, and returns the measured calls, unsigned.
    static func prepare(layout: NetworkLayout, client: ChainClient, chain: String, count: Int, run: String) async throws
        -> [BenchCall]
    {
        func identity(_ name: String, _ org: String, _ role: Role) throws -> SigningIdentity {
            let dir = layout.identityDir(name)
            if !FileManager.default.fileExists(atPath: dir.path) { try layout.issueIdentity(org: org, role: role, name: name) }
            return try SigningIdentity(directory: dir)
        }
        let admin = try SigningIdentity(directory: layout.identityDir("org0-admin"))
        let regulator = try identity("bench-regulator", "org0", .regulator)
        let clerk = try identity("bench-village", village, .village)
        guard let code = ContractModules.bytes(contract) else {
            throw ChainError(.benchSetupFailed, "the \(contract) module is not bundled with this binary")
        }
        let uploads = try ContractUpload.uploads(code, signer: admin, chain: chain)
        try await CrabWorkload.submitAndWait(
            uploads.map { tx in BenchCall(signer: admin, contract: "wasm", method: "upload", args: Self.args(of: tx)) },
            client: client, chain: chain)
        try await CrabWorkload.submitAndWait(
            [
                BenchCall(
                    signer: admin, contract: "wasm", method: "deploy",
                    args: .object(["name": .string(contract), "code": .string(ContractUpload.hash(code))]))
            ], client: client, chain: chain)
        try await CrabWorkload.submitAndWait([call(regulator, "registerVillage", registerArgs)], client: client, chain: chain)
        return measured(count: count, run: run).map { call(clerk, $0.method, $0.args) }
    }

    /// The arguments of a signed transaction (to re-sign the upload parts with a setup nonce).
    static func args(of tx: SignedTransaction) -> JSONValue {
        (try? JSONParser().parse(tx.body))?["args"] ?? .null
    }

    static let registerArgs: JSONValue = .object([
        "village": .string(village), "name": .string("bench village"), "township": .string(township),
        "openingBalanceFen": .int(100_000_000_000),
    ])

    /// The measured calls of the village's clerk, in order: `run` makes their ids unique to this run.
    static func measured(count: Int, run: String) -> [(method: String, args: JSONValue)] {
        let tag = String(run.prefix(8))
        return (0..<count).map { i in
            let id = JSONValue.string("\(tag)-\(i)")
            switch i % 4 {
            case 0, 1:
                return (
                    "requestSpending",
                    .object([
                        "id": id, "amountFen": .int(100_000 + Int64(i % 100)), "payee": .string("相城区路桥养护站"),
                        "purpose": .string("村道养护 \(i)"),
                    ])
                )
            case 2:
                return (
                    "registerItem",
                    .object([
                        "id": id, "category": .string("equipment"), "name": .string("水泵 \(i)"), "valueFen": .int(420_000),
                    ])
                )
            default:
                return (
                    "recordExpense",
                    .object([
                        "id": id, "amountFen": .int(50_000), "payee": .string("莲花村绿化队"), "purpose": .string("苗木 \(i)"),
                        "date": .int(20_260_610),
                    ])
                )
            }
        }
    }

    static func call(_ signer: SigningIdentity, _ method: String, _ args: JSONValue) -> BenchCall {
        BenchCall(
            signer: signer, contract: "wasm", method: "call",
            args: .object(["contract": .string(contract), "method": .string(method), "args": args]))
    }

    /// Fuel of the first `sample` measured calls (after the setup), run in order through the
    /// runtime against in-memory state: per method, the mean and the largest. Deterministic, and
    /// independent of the machine and its load.
    static func fuelPerTransaction(sample: Int = 400) throws -> JSONValue {
        guard let code = ContractModules.bytes(contract) else { return .null }
        let runtime = WasmRuntime()
        let module = try runtime.deploy(code)
        let host = MemoryHost()
        var height: UInt64 = 1
        func run(_ method: String, _ args: JSONValue, org: String, role: String) throws -> WasmCallOutcome {
            height += 1
            let context = WasmCallContext(
                signer: WasmSigner(
                    org: org, role: role, subject: "bench", certificateFingerprint: String(repeating: "0", count: 64)),
                transactionID: Hash256.sha256(Array("bench-\(height)".utf8)).hex, blockHeight: height,
                blockTime: 1_780_000_000_000 + Int64(height) * 1_000)
            let outcome = try runtime.call(
                module, method: method, args: args, context: context, host: host, fuel: WasmContract.defaultTxFuel)
            if let error = outcome.error { throw error }
            host.apply(outcome.writes)
            return outcome
        }
        _ = try run("registerVillage", registerArgs, org: "org0", role: "regulator")
        var total: [String: (sum: UInt64, max: UInt64, n: UInt64)] = [:]
        for c in measured(count: sample, run: "fuel") {
            let used = try run(c.method, c.args, org: village, role: "village").fuelUsed
            let t = total[c.method] ?? (0, 0, 0)
            total[c.method] = (t.sum + used, Swift.max(t.max, used), t.n + 1)
        }
        let all = total.values.reduce(UInt64(0)) { $0 + $1.sum }
        var out: [String: JSONValue] = ["mean": .int(Int64(all / UInt64(Swift.max(1, sample)))), "sample": .int(Int64(sample))]
        for (method, t) in total {
            out[method] = .object(["mean": .int(Int64(t.sum / Swift.max(1, t.n))), "max": .int(Int64(t.max))])
        }
        return .object(out)
    }
}

/// The contract's state in memory, byte-ordered: for `WasmWorkload.fuelPerTransaction`.
final class MemoryHost: WasmHost {
    var state: [[UInt8]: [UInt8]] = [:]

    func read(_ key: [UInt8]) throws -> [UInt8]? { state[key] }

    func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [WasmStateEntry] {
        var keys = state.keys.filter { key in
            key.starts(with: prefix) && (after.map { $0.lexicographicallyPrecedes(key) } ?? true)
        }
        keys.sort { $0.lexicographicallyPrecedes($1) }
        return keys.prefix(limit).map { WasmStateEntry(key: $0, value: state[$0] ?? []) }
    }

    func queryNative(contract: String, method: String, args: JSONValue) throws -> JSONValue {
        throw ChainError(.unknownContract, "no contract named \"\(contract)\"")
    }

    func apply(_ writes: [WasmStateWrite]) {
        for w in writes { state[w.key] = w.value }
    }
}
