import ChainCore
import ChainTesting
import Execution
import Testing

/// The 三资 contract on a test chain, with the district's regulator, a township's 农经站 and two of
/// its villages, plus a village of another township.
final class SanziFixture {
    let chain: WasmTestChain
    let regulator = WasmSigner.test(org: "xiangcheng-agri", role: "regulator")
    let township = WasmSigner.test(org: "yangchenghu-njz", role: "township")
    let otherTownship = WasmSigner.test(org: "weitang-njz", role: "township")
    let lianhua = WasmSigner.test(org: "lianhua", role: "village")
    let qingdun = WasmSigner.test(org: "qingdun", role: "village")
    let farmer = WasmSigner.test(org: "lianhua", role: "farm")

    static let meeting = String(repeating: "a", count: 64)
    static let notice = String(repeating: "b", count: 64)

    init() throws {
        chain = try WasmTestChain(wasm: try ContractFixtures.module("sanzi"))
        try ok(
            "registerVillage", #"{"village":"lianhua","name":"莲花村","township":"yangchenghu-njz","openingBalanceFen":100000000}"#,
            as: regulator)
        try ok("registerVillage", #"{"village":"qingdun","name":"清墩村","township":"weitang-njz"}"#, as: regulator)
    }

    /// Runs a transaction that must succeed; returns its result.
    @discardableResult
    func ok(_ method: String, _ args: String, as signer: WasmSigner, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> JSONValue
    {
        let outcome = try chain.call(method, args, as: signer)
        #expect(outcome.error == nil, "\(method): \(outcome.error.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        return outcome.result
    }

    /// Runs a transaction that must fail with `code`, and checks it changed nothing.
    @discardableResult
    func refused(
        _ method: String, _ args: String, as signer: WasmSigner, code: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> ChainError? {
        let before = chain.host.state
        let outcome = try chain.call(method, args, as: signer)
        #expect(
            outcome.error?.code.rawValue == code, "\(method): \(outcome.error.map { "\($0)" } ?? "succeeded")",
            sourceLocation: sourceLocation)
        #expect(outcome.writes.isEmpty && outcome.events.isEmpty, sourceLocation: sourceLocation)
        #expect(chain.host.state == before, sourceLocation: sourceLocation)
        return outcome.error
    }

    /// Runs a read-only query that must succeed.
    func query(_ method: String, _ args: String, as signer: WasmSigner, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> JSONValue
    {
        let outcome = try chain.query(method, args, as: signer)
        #expect(outcome.error == nil, "\(method): \(outcome.error.map { "\($0)" } ?? "")", sourceLocation: sourceLocation)
        return outcome.result
    }

    /// The kinds of the village's alerts, in order.
    func alertKinds(_ village: String = "lianhua") throws -> [String] {
        let disclosure = try query("disclosure", #"{"village":"\#(village)"}"#, as: farmer)
        return (disclosure["alerts"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue }
    }

    /// Registers the pond most tests lease.
    func registerPond(_ id: String = "pond-7", reference: Int = 1_200_000) throws {
        try ok(
            "registerItem",
            #"{"id":"\#(id)","category":"pond","name":"阳澄湖 7 号塘","areaCentiMu":3250,"refAnnualRentFen":\#(reference)}"#,
            as: lianhua)
    }
}

extension JSONValue {
    /// The integer of a member.
    func int(_ key: String) -> Int64? { self[key]?.int64Value }
    /// The string of a member.
    func string(_ key: String) -> String? { self[key]?.stringValue }
}
