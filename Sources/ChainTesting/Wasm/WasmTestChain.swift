import ChainCore
import Execution

/// One contract on a pretend chain: calls run as transactions of successive blocks, and the writes
/// of successful ones are committed to an ``InMemoryWasmHost``.
public final class WasmTestChain {
    /// The runtime.
    public let runtime: WasmRuntime
    /// The deployed contract.
    public let contract: WasmModule
    /// Its state.
    public let host: InMemoryWasmHost
    /// Height of the last block.
    public private(set) var height: UInt64 = 0
    /// Time of the next block, unix milliseconds; each call advances it by `blockInterval`.
    public var time: Int64
    /// Milliseconds between blocks.
    public var blockInterval: Int64 = 1_000
    /// Fuel budget of each transaction.
    public var fuel: UInt64
    /// Fuel budget of each query.
    public var queryFuel: UInt64
    /// Events of successful calls, in order.
    public private(set) var events: [WasmEvent] = []

    /// Deploys `wasm` on a fresh chain.
    public init(
        wasm: [UInt8], runtime: WasmRuntime = WasmRuntime(), time: Int64 = 1_735_660_800_000, fuel: UInt64 = 50_000_000,
        queryFuel: UInt64 = 200_000_000
    ) throws(ChainError) {
        self.runtime = runtime
        self.contract = try runtime.deploy(wasm)
        self.host = InMemoryWasmHost()
        self.time = time
        self.fuel = fuel
        self.queryFuel = queryFuel
    }

    func context(_ signer: WasmSigner, txid: String) -> WasmCallContext {
        WasmCallContext(signer: signer, transactionID: txid, blockHeight: height, blockTime: time)
    }

    /// Runs `method` with `args` (JSON text) as a transaction in a new block.
    @discardableResult
    public func call(_ method: String, _ args: String = "{}", as signer: WasmSigner) throws -> WasmCallOutcome {
        height += 1
        time += blockInterval
        let txid = Hex.encode((0..<32).map { UInt8(truncatingIfNeeded: Int(height) &* 31 &+ $0) })
        let outcome = try runtime.call(
            contract, method: method, args: try JSONParser().parse(Array(args.utf8)), context: context(signer, txid: txid),
            host: host, fuel: fuel)
        if outcome.succeeded {
            host.apply(outcome.writes)
            events.append(contentsOf: outcome.events)
        }
        return outcome
    }

    /// Runs `method` as a read-only query against the latest state.
    public func query(_ method: String, _ args: String = "{}", as signer: WasmSigner) throws -> WasmCallOutcome {
        try runtime.query(
            contract, method: method, args: try JSONParser().parse(Array(args.utf8)), context: context(signer, txid: ""),
            host: host, fuel: queryFuel)
    }
}

extension WasmSigner {
    /// A signer for tests: `subject` defaults to "<role>@<org>".
    public static func test(org: String, role: String, subject: String? = nil) -> WasmSigner {
        WasmSigner(
            org: org, role: role, subject: subject ?? "\(role)@\(org)",
            certificateFingerprint: Hex.encode(Array((org + "/" + role).utf8).prefix(32)))
    }
}
