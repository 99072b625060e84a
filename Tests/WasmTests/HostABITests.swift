import ChainCore
import ChainTesting
import Execution
import Testing
import WAT

/// Each host function, through the probe contract.
@Suite struct HostABITests {
    let signer = WasmSigner(
        org: "org1", role: "farm", subject: "alice", certificateFingerprint: String(repeating: "ab", count: 32))

    func chain() throws -> WasmTestChain { try WasmTestChain(wasm: try ContractFixtures.module("probe")) }

    @Test func theContextComesFromTheHost() throws {
        let c = try chain()
        let outcome = try c.call("context", "{}", as: signer)
        #expect(outcome.result["org"] == .string("org1"))
        #expect(outcome.result["role"] == .string("farm"))
        #expect(outcome.result["subject"] == .string("alice"))
        #expect(outcome.result["fingerprint"] == .string(String(repeating: "ab", count: 32)))
        #expect(outcome.result["height"] == .int(1))
        #expect(outcome.result["time"] == .int(c.time))
        #expect(outcome.result["tx"]?.stringValue?.count == 64)
        let query = try c.query("context", "{}", as: signer)
        #expect(query.result["tx"] == .string(""))
    }

    @Test func stateRoundTripsAndDeletes() throws {
        let c = try chain()
        try c.call("put", #"{"key":"a/1","value":"one"}"#, as: signer)
        #expect(try c.call("get", #"{"key":"a/1"}"#, as: signer).result == .string("one"))
        #expect(try c.call("get", #"{"key":"a/2"}"#, as: signer).result == .null)
        let delete = try c.call("delete", #"{"key":"a/1"}"#, as: signer)
        #expect(delete.writes == [WasmStateWrite(key: Array("a/1".utf8), value: nil)])
        #expect(try c.call("get", #"{"key":"a/1"}"#, as: signer).result == .null)
        #expect(c.host.state.isEmpty)
    }

    @Test func keysAreCheckedBeforeAnythingIsWritten() throws {
        let c = try chain()
        #expect(try c.call("put", #"{"key":"","value":"x"}"#, as: signer).error?.code.rawValue == "bad_host_call")
        let long = String(repeating: "k", count: 257)
        #expect(try c.call("put", #"{"key":"\#(long)","value":"x"}"#, as: signer).error?.code.rawValue == "limit_exceeded")
        // SQLite would store and look up such a key cut at the NUL, so "a\u0000b" would be "a".
        for call in ["put", "get", "delete"] {
            let r = try c.call(call, #"{"key":"a\u0000b","value":"x"}"#, as: signer)
            #expect(r.error?.code.rawValue == "bad_host_call", "\(call)")
        }
        for args in [#"{"prefix":"a\u0000"}"#, #"{"prefix":"a","after":"a\u0000b"}"#] {
            #expect(try c.call("scan", args, as: signer).error?.code.rawValue == "bad_host_call", "\(args)")
        }
        #expect(c.host.state.isEmpty)
    }

    @Test func scansAreOrderedByKeyBytesAndLimited() throws {
        let c = try chain()
        for key in ["b/2", "a/9", "b/10", "b/1", "c/1", "b/3"] {
            try c.call("put", #"{"key":"\#(key)","value":"v\#(key)"}"#, as: signer)
        }
        func keys(_ args: String) throws -> [String] {
            try c.call("scan", args, as: signer).result.arrayValue?.compactMap { $0["key"]?.stringValue } ?? []
        }
        #expect(try keys(#"{"prefix":"b/"}"#) == ["b/1", "b/10", "b/2", "b/3"])
        #expect(try keys(#"{"prefix":"b/","limit":2}"#) == ["b/1", "b/10"])
        #expect(try keys(#"{"prefix":"b/","after":"b/10","limit":2}"#) == ["b/2", "b/3"])
        #expect(try keys(#"{"prefix":"","limit":3}"#) == ["a/9", "b/1", "b/10"])
        #expect(try keys(#"{"prefix":"b/","limit":0}"#) == [])
    }

    @Test func scansSeeTheCallsOwnWrites() throws {
        let c = try chain()
        for key in ["k/1", "k/2", "k/3", "k/4"] { try c.call("put", #"{"key":"\#(key)","value":"old"}"#, as: signer) }
        let outcome = try c.call(
            "writeThenScan", #"{"puts":[["k/0","new"],["k/3","new"]],"deletes":["k/1","k/2"],"prefix":"k/","limit":3}"#,
            as: signer)
        let entries = outcome.result.arrayValue?.map { "\($0["key"]?.stringValue ?? "")=\($0["value"]?.stringValue ?? "")" }
        #expect(entries == ["k/0=new", "k/3=new", "k/4=old"])
    }

    @Test func eventsAndResultsMustBeJSONAndNamed() throws {
        let c = try chain()
        let good = try c.call("emit", #"{"name":"thing.done","data":{"n":1}}"#, as: signer)
        #expect(good.events == [WasmEvent(name: "thing.done", data: .object(["n": .int(1)]))])
        let badName = try c.call("emit", #"{"name":"no spaces","data":1}"#, as: signer)
        #expect(badName.error?.code.rawValue == "bad_host_call")
        #expect(badName.events.isEmpty)
    }

    @Test func aContractsErrorFailsTheCallAndKeepsNothing() throws {
        let c = try chain()
        let failed = try c.call("fail", #"{"code":"too_late","message":"the season is over"}"#, as: signer)
        #expect(failed.error == ChainError(ErrorCode(named: "too_late"), "the season is over"))
        #expect(failed.writes.isEmpty && failed.fuelUsed > 0)
        let thrown = try c.call("throw", "{}", as: signer)
        #expect(thrown.error == ChainError(ErrorCode(named: "custom_error"), "thrown by the contract"))
        let badCode = try c.call("fail", #"{"code":"Not A Code","message":"x"}"#, as: signer)
        #expect(badCode.error?.code.rawValue == "contract_error")
        let long = String(repeating: "长", count: 500)
        let cut = try c.call("fail", #"{"code":"long","message":"\#(long)"}"#, as: signer)
        #expect(cut.error?.message.utf8.count == 1023)
        #expect(c.host.state.isEmpty)
    }

    @Test func unknownMethodsAndBadArgumentsFail() throws {
        let counter = try WasmTestChain(wasm: try ContractFixtures.module("counter"))
        #expect(try counter.call("nope", "{}", as: signer).error?.code.rawValue == "unknown_method")
        #expect(try counter.call("increment", #"{"by":0}"#, as: signer).error?.code.rawValue == "bad_args")
        #expect(try counter.call("increment", #"{"by":1.5}"#, as: signer).error?.code.rawValue == "bad_args")
        #expect(try counter.call("increment", #"{"extra":1}"#, as: signer).error?.code.rawValue == "bad_args")
        #expect(try counter.call("reset", "{}", as: signer).error?.code.rawValue == "role_not_allowed")
    }

    @Test func nativeQueriesReturnResultsOrErrors() throws {
        let c = try chain()
        c.host.nativeQueries["evidence"] = { method, args in
            guard method == "get" else { throw ChainError(ErrorCode(named: "unknown_method"), "no method \(method)") }
            return .object(["hash": args["hash"] ?? .null, "height": .int(7)])
        }
        let ok = try c.call("query", #"{"contract":"evidence","method":"get","args":{"hash":"h1"}}"#, as: signer)
        #expect(ok.result["ok"] == .object(["hash": .string("h1"), "height": .int(7)]))
        let failed = try c.call("query", #"{"contract":"evidence","method":"put","args":{}}"#, as: signer)
        #expect(failed.result["code"] == .string("unknown_method"))
        let missing = try c.call("query", #"{"contract":"nothing","method":"get","args":{}}"#, as: signer)
        #expect(missing.result["code"] == .string("unknown_contract"))
    }

    @Test func queriesCannotWrite() throws {
        let c = try chain()
        #expect(try c.query("put", #"{"key":"a","value":"b"}"#, as: signer).error?.code.rawValue == "read_only")
        #expect(try c.query("emit", #"{"name":"x","data":1}"#, as: signer).error?.code.rawValue == "read_only")
        #expect(try c.query("get", #"{"key":"a"}"#, as: signer).error == nil)
    }

    @Test func debugLogsAreCollectedButNotPartOfTheOutcomeOfConsensus() throws {
        let c = try chain()
        let outcome = try c.call("log", #"{"text":"hello"}"#, as: signer)
        #expect(outcome.logs == ["hello"])
    }

    /// Host calls are priced by the schedule, exactly: a module that stores its own argument bytes
    /// pays, per extra byte, `perByte` to receive it and `perByte + stateWritePerByte` to write it.
    @Test func hostCallsArePricedExactlyBySchedule() throws {
        let wasm = try wat2wasm(
            """
            (module
              (import "xc" "state_put" (func $put (param i32 i32 i32 i32)))
              (memory (export "memory") 1)
              (global $next (mut i32) (i32.const 1024))
              (func (export "xc_alloc") (param $n i32) (result i32)
                global.get $next
                global.get $next local.get $n i32.add global.set $next)
              (func (export "xc_call") (param i32 i32 i32 i32) (result i32)
                local.get 2 i32.const 1 local.get 2 local.get 3 call $put
                i32.const 0))
            """)
        let runtime = WasmRuntime()
        let contract = try runtime.deploy(wasm)
        let context = WasmCallContext(signer: signer, transactionID: "", blockHeight: 1, blockTime: 0)
        func fuel(_ length: Int) throws -> UInt64 {
            let outcome = try runtime.call(
                contract, method: "m", args: .string(String(repeating: "x", count: length)), context: context,
                host: InMemoryWasmHost(), fuel: 1_000_000)
            #expect(outcome.error == nil)
            #expect(outcome.writes.first?.value?.count == length + 2)
            return outcome.fuelUsed
        }
        let s = FuelSchedule()
        let base = try fuel(0)
        // Everything but the bytes: the call, two allocations, the put.
        #expect(base > s.callBase + s.hostCall + s.stateWrite)
        #expect(try fuel(100) - base == 100 * (2 * s.perByte + s.stateWritePerByte))
        #expect(try fuel(1000) - base == 1000 * (2 * s.perByte + s.stateWritePerByte))
    }

    /// A host whose storage fails stops the call with a host fault instead of recording a result.
    @Test func hostFaultsAreRethrown() throws {
        struct Broken: WasmHost {
            struct Disk: Error {}
            func read(_ key: [UInt8]) throws -> [UInt8]? { throw Disk() }
            func scan(prefix: [UInt8], after: [UInt8]?, limit: Int) throws -> [WasmStateEntry] { throw Disk() }
            func queryNative(contract: String, method: String, args: JSONValue) throws -> JSONValue { .null }
        }
        let runtime = WasmRuntime()
        let contract = try runtime.deploy(try ContractFixtures.module("probe"))
        let context = WasmCallContext(signer: signer, transactionID: "", blockHeight: 1, blockTime: 0)
        #expect(throws: WasmHostFault.self) {
            _ = try runtime.call(
                contract, method: "get", args: .object(["key": .string("a")]), context: context, host: Broken(), fuel: 10_000_000)
        }
    }
}
