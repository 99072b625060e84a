import ChainCore
import ChainTesting
import Execution
import Testing

/// Reusing an instance between calls is invisible: every outcome, fuel included, is the same as
/// with a fresh instance for each call.
@Suite struct InstanceReuseTests {
    let signer = WasmSigner.test(org: "org1", role: "farm")

    func outcomes(_ name: String, reuse: Bool, _ calls: [(String, String)]) throws -> [WasmCallOutcome] {
        let chain = try WasmTestChain(wasm: try ContractFixtures.module(name), runtime: WasmRuntime(reuseInstances: reuse))
        return try calls.map { try chain.call($0.0, $0.1, as: signer) }
    }

    func expectSame(_ a: [WasmCallOutcome], _ b: [WasmCallOutcome]) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            #expect(x.error == y.error)
            #expect(x.result == y.result)
            #expect(x.writes == y.writes)
            #expect(x.events == y.events)
            #expect(x.fuelUsed == y.fuelUsed)
        }
    }

    @Test func theSampleContractsAreReusable() throws {
        for name in ["counter", "probe", "sanzi", "membomb", "trap"] {
            #expect(try WasmRuntime().deploy(try ContractFixtures.module(name)).reusable, "\(name)")
        }
    }

    @Test func counterCallsAgreeWithAndWithoutReuse() throws {
        let calls = (0..<6).map { ("increment", #"{"by":\#($0 + 1)}"#) } + [("get", "{}"), ("nope", "{}"), ("increment", "{}")]
        expectSame(try outcomes("counter", reuse: true, calls), try outcomes("counter", reuse: false, calls))
    }

    /// Failures (which discard the instance) and memory growth (which makes it unreusable)
    /// between successful calls.
    @Test func mixedOutcomesAgreeWithAndWithoutReuse() throws {
        let calls = [
            ("put", #"{"key":"a","value":"1"}"#), ("fail", #"{"code":"x","message":"y"}"#), ("get", #"{"key":"a"}"#),
            ("burn", #"{"rounds":1000}"#), ("echo", #"{"big":"\#(String(repeating: "z", count: 200_000))"}"#),
            ("context", "{}"), ("scan", #"{"prefix":""}"#), ("throw", "{}"), ("get", #"{"key":"a"}"#),
        ]
        expectSame(try outcomes("probe", reuse: true, calls), try outcomes("probe", reuse: false, calls))
        let bombs = [("run", #"{"megabytes":1}"#), ("run", #"{"megabytes":0}"#), ("run", "{}"), ("run", #"{"megabytes":0}"#)]
        expectSame(try outcomes("membomb", reuse: true, bombs), try outcomes("membomb", reuse: false, bombs))
    }
}
