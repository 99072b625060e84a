import ChainCore
import Execution
import Foundation
import Hummingbird
import Node
import Storage
import Synchronization

/// WebAssembly contracts for everyone to read (`docs/contracts.md`): a contract's record and its
/// read-only queries against committed state. Uploads, deployments and calls are transactions of
/// the `wasm` contract (`POST /v1/txs`).
struct ContractRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }
    let contract: WasmContract
    let gate = QueryGate()

    /// Queries run at most this many at a time per node; more are refused with `query_busy`.
    static let maxConcurrentQueries = 2
    /// Fuel budget of one query.
    static let queryFuel: UInt64 = 50_000_000
    /// Largest query body.
    static let maxQueryBody = 256 * 1024

    init(api: APIContext) {
        self.api = api
        contract = WasmContract()
    }

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.get("contracts/:name") { _, context in try self.show(context.parameters.require("name")) }
        r.post("contracts/:name/query") { request, context in
            try await self.query(request, name: context.parameters.require("name"))
        }
        return r
    }

    /// `GET /v1/wasm/contracts/{name}`: name, code hash, version, frozen, who deployed it and when.
    func show(_ name: String) throws -> Response {
        guard let record = try WasmContract.record(name, state: node.store) else {
            throw ChainError(.notFound, "no WebAssembly contract named \"\(name)\"")
        }
        return JSONResponse.make(record)
    }

    /// `POST /v1/wasm/contracts/{name}/query` with `{"method", "args"}`: the query's result and
    /// the fuel it used. The contract sees an anonymous signer (org and role empty).
    func query(_ request: Request, name: String) async throws -> Response {
        let body = try await RequestInput.jsonObjectBody(
            request, limit: Self.maxQueryBody, maxDepth: 64, allowed: ["method", "args"])
        guard let method = body["method"]?.stringValue, !method.isEmpty, method.utf8.count <= 128 else {
            throw ChainError(.malformed, "\"method\" must be a string of 1–128 bytes")
        }
        let args = body["args"] ?? .object([:])
        let outcome = try await run(
            name, method: method, args: args, signer: WasmSigner(org: "", role: "", subject: "", certificateFingerprint: ""))
        return JSONResponse.make(.object(["result": outcome.result, "fuelUsed": .int(Int64(outcome.fuelUsed))]))
    }

    /// Runs a read-only query of contract `name` as `signer` against committed state, within the
    /// node's query gate and fuel; throws the call's failure. Shared by the anonymous query route
    /// and the console's signed-in one (`POST /v1/console/wasm/query`).
    func run(_ name: String, method: String, args: JSONValue, signer: WasmSigner) async throws -> WasmCallOutcome {
        guard gate.running.add(1, ordering: .relaxed).newValue <= Self.maxConcurrentQueries else {
            _ = gate.running.subtract(1, ordering: .relaxed)
            throw ChainError(.queryBusy, "the node runs \(Self.maxConcurrentQueries) contract queries already; retry later")
        }
        defer { _ = gate.running.subtract(1, ordering: .relaxed) }
        // A query runs up to its fuel on one thread: run it on a dispatch queue so the cooperative
        // pool keeps serving requests (at most `maxConcurrentQueries` threads are taken).
        let store = node.store
        let contract = self.contract
        let natives = node.executor.registry
        let outcome = try await OffPool.run {
            let tip = try store.tip()
            return try contract.query(
                name, method: method, args: args, signer: signer,
                height: tip?.height ?? 0, time: tip?.timestamp ?? 0, state: store, fuel: Self.queryFuel,
                natives: natives)
        }
        if let error = outcome.error { throw error }
        return outcome
    }
}

/// Counts the contract queries running on a node.
final class QueryGate: Sendable {
    let running = Atomic<Int>(0)
}
