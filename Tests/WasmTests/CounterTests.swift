import ChainCore
import ChainTesting
import Execution
import Testing

@Suite struct CounterTests {
    let alice = WasmSigner.test(org: "org1", role: "farm")

    @Test func incrementsAndReadsBack() throws {
        let chain = try WasmTestChain(wasm: try ContractFixtures.module("counter"))
        let first = try chain.call("increment", #"{"by": 5}"#, as: alice)
        #expect(first.error == nil)
        #expect(first.result == .object(["name": .string("default"), "value": .int(5)]))
        #expect(first.writes == [WasmStateWrite(key: Array("counter/default".utf8), value: Array("5".utf8))])
        #expect(first.events.map(\.name) == ["incremented"])
        let second = try chain.call("increment", #"{"by": 7}"#, as: alice)
        #expect(second.result["value"] == .int(12))
        let get = try chain.query("get", "{}", as: alice)
        #expect(get.result["value"] == .int(12))
    }

    /// The same call on the same state gives the same result, writes, events and fuel, run after
    /// run (and on another runtime).
    @Test func theSameCallOnTheSameStateIsIdentical() throws {
        let chain = try WasmTestChain(wasm: try ContractFixtures.module("counter"))
        try chain.call("increment", #"{"name":"n","by":3}"#, as: alice)
        let snapshot = chain.host.state
        let context = WasmCallContext(signer: alice, transactionID: "ab", blockHeight: 9, blockTime: 1_000)
        var outcomes: [WasmCallOutcome] = []
        for runtime in [chain.runtime, chain.runtime, chain.runtime, WasmRuntime()] {
            chain.host.replaceState(snapshot)
            let contract = try runtime.deploy(try ContractFixtures.module("counter"))
            outcomes.append(
                try runtime.call(
                    contract, method: "increment", args: .object(["name": .string("n"), "by": .int(4)]), context: context,
                    host: chain.host, fuel: 1_000_000))
        }
        for outcome in outcomes.dropFirst() {
            #expect(outcome.result == outcomes[0].result)
            #expect(outcome.writes == outcomes[0].writes)
            #expect(outcome.events == outcomes[0].events)
            #expect(outcome.fuelUsed == outcomes[0].fuelUsed)
        }
        #expect(outcomes[0].result["value"] == .int(7))
    }
}
