import ChainCore
import ChainTesting
import Execution
import Testing

/// Each way a call can go wrong fails with its code, keeps nothing, and fails the same way, at
/// the same fuel, every time.
@Suite struct LimitTests {
    let signer = WasmSigner.test(org: "org1", role: "farm")

    /// Runs `method` twice on fresh chains and checks the two outcomes agree.
    func failTwice(_ name: String, _ method: String = "run", _ args: String = "{}", fuel: UInt64 = 5_000_000)
        throws -> WasmCallOutcome
    {
        let a = try WasmTestChain(wasm: try ContractFixtures.module(name), fuel: fuel)
        let b = try WasmTestChain(wasm: try ContractFixtures.module(name), fuel: fuel)
        let first = try a.call(method, args, as: signer)
        let second = try b.call(method, args, as: signer)
        #expect(first.error == second.error)
        #expect(first.fuelUsed == second.fuelUsed)
        #expect(first.writes.isEmpty && first.events.isEmpty && first.result == .null)
        #expect(a.host.state.isEmpty)
        return first
    }

    @Test func infiniteLoopRunsOutOfFuel() throws {
        let outcome = try failTwice("loop")
        #expect(outcome.error?.code.rawValue == "out_of_fuel")
        #expect(outcome.fuelUsed == 5_000_000)
    }

    @Test func unreachableTraps() throws {
        let outcome = try failTwice("trap")
        #expect(outcome.error == ChainError(ErrorCode(named: "trap"), "the contract trapped: unreachable"))
        #expect(outcome.fuelUsed > 0 && outcome.fuelUsed < 5_000_000)
    }

    @Test func divisionByZeroTraps() throws {
        let outcome = try failTwice("trap", "divide", #"{"zero": 0}"#)
        #expect(outcome.error?.code.rawValue == "trap")
    }

    @Test func arithmeticOverflowTraps() throws {
        let outcome = try failTwice("trap", "overflow", "{}")
        #expect(outcome.error?.code.rawValue == "trap")
    }

    @Test func memoryBombHitsTheLimit() throws {
        let outcome = try failTwice("membomb", fuel: 50_000_000)
        #expect(outcome.error?.code.rawValue == "memory_limit")
        #expect(outcome.error?.message.contains("the limit is 64") == true)
    }

    @Test func modestAllocationFitsUnderTheLimit() throws {
        let chain = try WasmTestChain(wasm: try ContractFixtures.module("membomb"))
        let outcome = try chain.call("run", #"{"megabytes": 2}"#, as: signer)
        #expect(outcome.error == nil)
        #expect(outcome.result == .int(2))
    }

    @Test func deepRecursionExhaustsTheStack() throws {
        let outcome = try failTwice("recursion", "run", #"{"depth": 1000000}"#, fuel: 50_000_000)
        #expect(outcome.error?.code.rawValue == "call_depth")
    }

    @Test func shallowRecursionSucceeds() throws {
        let chain = try WasmTestChain(wasm: try ContractFixtures.module("recursion"))
        let outcome = try chain.call("run", #"{"depth": 200}"#, as: signer)
        #expect(outcome.error == nil)
        #expect(outcome.writes.count == 1)
    }

    @Test func aSmallerStackFailsSooner() throws {
        var limits = WasmLimits()
        limits.stackBytes = 64 * 1024
        let chain = try WasmTestChain(wasm: try ContractFixtures.module("recursion"), runtime: WasmRuntime(limits: limits))
        #expect(try chain.call("run", #"{"depth": 200}"#, as: signer).error == nil)
        #expect(try chain.call("run", #"{"depth": 5000}"#, as: signer).error?.code.rawValue == "call_depth")
    }

    @Test func fuelBelowTheCallBaseFailsBeforeRunning() throws {
        let chain = try WasmTestChain(wasm: try ContractFixtures.module("counter"), fuel: 1_000)
        let outcome = try chain.call("increment", "{}", as: signer)
        #expect(outcome.error?.code.rawValue == "out_of_fuel")
        #expect(outcome.fuelUsed == 1_000)
    }

    /// Where the fuel runs out does not depend on the machine: lowering the budget one unit at a
    /// time around a successful call's cost flips success to failure exactly at that cost.
    @Test func fuelBoundaryIsExact() throws {
        let probe = try WasmTestChain(wasm: try ContractFixtures.module("counter"))
        let cost = try probe.call("increment", "{}", as: signer).fuelUsed
        for (budget, succeeds) in [(cost, true), (cost - 1, false)] {
            let chain = try WasmTestChain(wasm: try ContractFixtures.module("counter"), fuel: budget)
            let outcome = try chain.call("increment", "{}", as: signer)
            #expect(outcome.succeeded == succeeds)
            #expect(outcome.fuelUsed == budget || succeeds == false)
        }
    }
}
