import ChainCore
import ChainTesting
import ContractModules
import CrabTraceContract
import EvidenceContract
import Execution
import Foundation
import Identity
import Node
import Storage
import Testing

/// WebAssembly contracts reading native contracts' offered queries (`crab.member`, `evidence.get`)
/// in blocks: through the block's overlay, refused with their codes, charged, the same on every
/// executor; and a call's result value recorded with its transaction's result.
@Suite struct NativeQueryTests {
    let consortium: TestConsortium
    let verifier: TransactionVerifier
    let natives: [any Contract] = [WasmContract(), EvidenceContract(), CrabTraceContract()]
    /// The first block's time, fixed for the suite so that every executor runs the same blocks.
    let start = Fixtures.now

    init() throws {
        consortium = try TestConsortium(orgs: ["org0", "org1"])
        verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try consortium.memberships(), registry: ContractRegistry(natives))
    }

    func executor() throws -> BlockExecutor {
        BlockExecutor(
            registry: ContractRegistry([WasmContract(), EvidenceContract(), CrabTraceContract()]),
            configSource: try ConfigSource(initial: consortium.genesis.initialConfig), hasher: .sha256)
    }

    func tx(_ signer: SigningIdentity, _ contract: String, _ method: String, _ args: JSONValue) throws -> VerifiedTransaction {
        try verifier.verify(
            try signer.transaction(chain: "test-chain", contract: contract, method: method, args: args), nowMillis: Fixtures.now)
    }

    func json(_ text: String) throws -> JSONValue { try JSONParser().parse(Array(text.utf8)) }

    /// Upload and deploy `module` as `name` (two blocks).
    func install(_ name: String, _ module: [UInt8], _ admin: SigningIdentity) throws -> [[VerifiedTransaction]] {
        let hash = Hash256.sha256(module).hex
        let part = WasmContract.partBytes
        let parts = max(1, (module.count + part - 1) / part)
        let uploads = try (0..<parts).map { n in
            try tx(
                admin, "wasm", "upload",
                .object([
                    "sha256": .string(hash), "part": .int(Int64(n)), "parts": .int(Int64(parts)),
                    "data": .string(Data(module[(n * part)..<min(module.count, (n + 1) * part)]).base64EncodedString()),
                ]))
        }
        return [uploads, [try tx(admin, "wasm", "deploy", .object(["name": .string(name), "code": .string(hash)]))]]
    }

    func lookup(_ contract: String, _ method: String, _ args: JSONValue, _ signer: SigningIdentity) throws -> VerifiedTransaction
    {
        try tx(
            signer, "wasm", "call",
            .object([
                "contract": .string("p"), "method": .string("lookup"),
                "args": .object(["contract": .string(contract), "method": .string(method), "args": args]),
            ]))
    }

    struct Run {
        var results: [TransactionResult] = []
        var stateHash = Hash256.zero
        var resultRoots: [Hash256] = []
    }

    @discardableResult
    func run(_ blocks: [[VerifiedTransaction]], on state: inout MemoryState, executor: BlockExecutor? = nil) throws -> Run {
        let exec = try executor ?? self.executor()
        var run = Run()
        for (i, block) in blocks.enumerated() {
            let out = try exec.execute(
                block, height: UInt64(i + 1), time: start + Int64(i) * 1000, state: state,
                previousStateHash: run.stateHash)
            run.results += out.transactions.map(\.result)
            run.resultRoots.append(out.resultRoot)
            state.apply(out.writes)
            run.stateHash = out.stateHash
        }
        return run
    }

    func probeKeys(_ state: MemoryState) -> [String] {
        state.values.keys.filter { $0.hasPrefix("wasm/state/p/") }.sorted()
    }

    /// Evidence put by an earlier transaction of the same block, and a crab member registered
    /// there, are what the contract reads (the block's overlay); a lookup placed before the put
    /// sees nothing. The answers are kept in the contract's state and recorded as result values.
    @Test func aContractSeesNativeRecordsWrittenEarlierInTheSameBlock() throws {
        let admin = try consortium.identity(.admin)
        let association = try consortium.identity(.association)
        let farm = try consortium.identity(.farm)
        let digest = String(repeating: "ab", count: 32)
        var state = MemoryState()
        try run(try install("p", try ContractFixtures.module("probe"), admin), on: &state)
        let block = [
            try lookup("evidence", "get", .object(["hash": .string(digest)]), farm),
            try tx(farm, "evidence", "put", .object(["hash": .string(digest), "kind": .string("notice")])),
            try lookup("evidence", "get", .object(["hash": .string(digest.uppercased())]), farm),
            try tx(
                association, "crab", "register_member",
                try json(#"{"org":"org1","role":"farm","name":"陆永根","licence":"L-1","areaMu":30,"zone":"lake"}"#)),
            try lookup("crab", "member", .object(["org": .string("org1")]), farm),
        ]
        let results = try run([block], on: &state).results
        #expect(results.map { $0.error?.code.rawValue } == [nil, nil, nil, nil, nil], "\(results.map(\.error))")
        // Before the put: null. After it: the record as the evidence contract stored it.
        #expect(results[0].value == .object(["found": .null]))
        let record = try #require(results[2].value?["found"])
        #expect(record["hash"] == .string(digest))
        #expect(record["txid"] == .string(block[1].id.hex))
        #expect(record == (try JSONParser().parse(try #require(state.values["evidence/\(digest)"]))))
        let member = try #require(results[4].value?["found"])
        #expect(member["name"] == .string("陆永根") && member["role"] == .string("farm"))
        // The last answer is what the contract kept.
        #expect(state.values["wasm/state/p/looked-up"].map { try? JSONParser().parse($0) } == member)
    }

    /// Queries the chain does not offer, of contracts that do not exist, or with bad arguments:
    /// the call fails with the query's code, and what it wrote before asking is not kept.
    @Test func refusedQueriesFailWithTheirCodesAndWriteNothing() throws {
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        var state = MemoryState()
        try run(try install("p", try ContractFixtures.module("probe"), admin), on: &state)
        let before = state.values
        let cases: [(String, String, JSONValue, String)] = [
            ("crab", "history", .object(["object": .string("member:org1")]), "query_not_allowed"),
            ("crab", "register_member", .object([:]), "query_not_allowed"),
            ("wasm", "call", .object([:]), "query_not_allowed"),
            ("governance", "proposals", .object([:]), "unknown_contract"),
            ("nothing", "get", .object([:]), "unknown_contract"),
            ("evidence", "get", .object(["hash": .string("not-a-hash")]), "bad_args"),
            ("evidence", "get", .object(["hash": .string(String(repeating: "a", count: 64)), "x": .int(1)]), "bad_args"),
            ("crab", "member", .object(["org": .string("org/../1")]), "bad_args"),
            ("crab", "member", .string("org1"), "bad_args"),
        ]
        let block = try cases.map { try lookup($0.0, $0.1, $0.2, farm) }
        let results = try run([block], on: &state).results
        #expect(results.map { $0.error?.code.rawValue } == cases.map(\.3), "\(results.map(\.error))")
        #expect(results.allSatisfy { $0.value == nil && $0.events.isEmpty })
        #expect(
            results[0].error?.message
                == "contract crab offers no query \"history\" to contracts; the chain offers crab.member, evidence.get")
        #expect(state.values == before)
        #expect(probeKeys(state).isEmpty)
    }

    /// Four executors, each with its own runtime and module cache, give the same state hash and
    /// result roots for blocks of native writes, contract lookups of them and refusals.
    @Test func fourExecutorsAgreeOnStateAndResultRoots() throws {
        let admin = try consortium.identity(.admin)
        let association = try consortium.identity(.association)
        let farm = try consortium.identity(.farm)
        let digest = String(repeating: "cd", count: 32)
        let blocks =
            try install("p", try ContractFixtures.module("probe"), admin) + [
                [
                    try tx(farm, "evidence", "put", .object(["hash": .string(digest), "kind": .string("decision")])),
                    try lookup("evidence", "get", .object(["hash": .string(digest)]), farm),
                    try lookup("crab", "member", .object(["org": .string("org1")]), farm),
                ],
                [
                    try tx(
                        association, "crab", "register_member",
                        try json(#"{"org":"org1","role":"farm","name":"F","licence":"L","areaMu":3,"zone":"z"}"#)),
                    try lookup("crab", "member", .object(["org": .string("org1")]), farm),
                    try lookup("crab", "history", .object([:]), farm),
                ],
            ]
        var outcomes: [(Hash256, [Hash256])] = []
        for _ in 0..<4 {
            var state = MemoryState()
            let r = try run(blocks, on: &state, executor: try executor())
            outcomes.append((r.stateHash, r.resultRoots))
            #expect(r.results.suffix(6).map { $0.error?.code.rawValue } == [nil, nil, nil, nil, nil, "query_not_allowed"])
        }
        #expect(Set(outcomes.map(\.0)).count == 1)
        #expect(Set(outcomes.map(\.1)).count == 1)
    }

    /// A query costs `nativeQuery` once and `queryAnswerPerByte` (besides `perByte`) per byte of the
    /// answer's envelope: two runtimes whose schedules differ only there differ by exactly that.
    @Test func nativeQueriesAreChargedPerCallAndPerAnswerByte() throws {
        let answer = JSONValue.object(["name": .string(String(repeating: "n", count: 500)), "role": .string("farm")])
        let envelopeBytes = JSONValue.object(["ok": answer]).canonicalBytes.count
        func fuel(_ schedule: FuelSchedule) throws -> UInt64 {
            let runtime = WasmRuntime(schedule: schedule)
            let probe = try runtime.deploy(try ContractFixtures.module("probe"))
            let host = InMemoryWasmHost()
            host.nativeQueries["crab"] = { _, _ in answer }
            let outcome = try runtime.call(
                probe, method: "lookup", args: try json(#"{"contract":"crab","method":"member","args":{"org":"o"}}"#),
                context: WasmCallContext(
                    signer: WasmSigner(org: "o", role: "farm", subject: "s", certificateFingerprint: ""), transactionID: "t",
                    blockHeight: 1, blockTime: 0),
                host: host, fuel: 10_000_000)
            #expect(outcome.error == nil)
            return outcome.fuelUsed
        }
        let base = try fuel(FuelSchedule())
        var dearCall = FuelSchedule()
        dearCall.nativeQuery += 1_000_000
        #expect(try fuel(dearCall) - base == 1_000_000)
        var dearBytes = FuelSchedule()
        dearBytes.queryAnswerPerByte += 1_000
        #expect(try fuel(dearBytes) - base == 1_000 * UInt64(envelopeBytes))
        // Out of fuel at the query: nothing is written.
        let host = InMemoryWasmHost()
        host.nativeQueries["crab"] = { _, _ in answer }
        var budget = FuelSchedule()
        budget.nativeQuery = 100_000_000
        let runtime = WasmRuntime(schedule: budget)
        let starved = try runtime.call(
            try runtime.deploy(try ContractFixtures.module("probe")), method: "lookup",
            args: try json(#"{"contract":"crab","method":"member","args":{}}"#),
            context: WasmCallContext(
                signer: WasmSigner(org: "o", role: "farm", subject: "s", certificateFingerprint: ""), transactionID: "t",
                blockHeight: 1, blockTime: 0),
            host: host, fuel: 10_000_000)
        #expect(starved.error?.code.rawValue == "out_of_fuel")
        #expect(starved.writes.isEmpty)
    }

    /// An answer over `maxQueryAnswerBytes` fails the call with `limit_exceeded`.
    @Test func oversizedAnswersAreRefused() throws {
        var limits = WasmLimits()
        limits.maxQueryAnswerBytes = 1_000
        let runtime = WasmRuntime(limits: limits)
        let probe = try runtime.deploy(try ContractFixtures.module("probe"))
        let host = InMemoryWasmHost()
        host.nativeQueries["crab"] = { _, args in .string(String(repeating: "x", count: Int(args["n"]?.int64Value ?? 0))) }
        func call(_ n: Int) throws -> WasmCallOutcome {
            try runtime.call(
                probe, method: "lookup", args: try json(#"{"contract":"crab","method":"member","args":{"n":\#(n)}}"#),
                context: WasmCallContext(
                    signer: WasmSigner(org: "o", role: "farm", subject: "s", certificateFingerprint: ""), transactionID: "t",
                    blockHeight: 1, blockTime: 0),
                host: host, fuel: 10_000_000)
        }
        // {"ok":"xxx…"} is n + 9 bytes.
        #expect(try call(991).error == nil)
        let refused = try call(992)
        #expect(refused.error?.code.rawValue == "limit_exceeded")
        #expect(refused.writes.isEmpty)
    }

    /// A call's JSON result is recorded with its transaction's result and hashed into the result
    /// root; none (null) and failures record nothing; a result over the recorded limit fails.
    @Test func aCallsResultValueIsRecorded() throws {
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        var state = MemoryState()
        try run(try install("p", try ContractFixtures.module("probe"), admin), on: &state)
        func call(_ method: String, _ args: JSONValue) throws -> VerifiedTransaction {
            try tx(farm, "wasm", "call", .object(["contract": .string("p"), "method": .string(method), "args": args]))
        }
        let limit = WasmLimits().maxRecordedResultBytes
        // echo returns its arguments: {"s":"…"} is the string's length + 8 bytes.
        let block = [
            try call("echo", .object(["a": .int(1), "b": .array([.string("x")])])),
            try call("put", .object(["key": .string("k"), "value": .string("v")])),
            try call("throw", .object([:])),
            try call("echo", .object(["s": .string(String(repeating: "y", count: limit - 8))])),
            try call("echo", .object(["s": .string(String(repeating: "y", count: limit - 7))])),
            try tx(farm, "evidence", "put", .object(["hash": .string(String(repeating: "e", count: 64)), "kind": .string("k")])),
        ]
        let run = try run([block], on: &state)
        let results = run.results
        #expect(results.map { $0.error?.code.rawValue } == [nil, nil, "custom_error", nil, "limit_exceeded", nil])
        #expect(results[0].value == .object(["a": .int(1), "b": .array([.string("x")])]))
        #expect(results[1].value == nil && results[2].value == nil && results[4].value == nil && results[5].value == nil)
        #expect(results[3].value?["s"]?.stringValue?.count == limit - 8)
        // The value is part of the leaf: it round-trips, and a result without one encodes as before.
        for r in results { #expect(try TransactionResult(decoding: r.encoded) == r) }
        let without = TransactionResult(txid: results[0].txid, error: nil, events: results[0].events)
        #expect(results[0].encoded.starts(with: without.encoded))
        #expect(
            Array(results[0].encoded.dropFirst(without.encoded.count))
                == [1] + [0, 0, 0, 17] + Array(#"{"a":1,"b":["x"]}"#.utf8))
        #expect(run.resultRoots.last == TransactionResult.root(results, hasher: .sha256))
        #expect(run.resultRoots.last != TransactionResult.root([without] + results.dropFirst(), hasher: .sha256))
        // Trailing bytes that are not a value are refused.
        #expect(throws: ChainError.self) { try TransactionResult(decoding: without.encoded + [2]) }
        #expect(throws: ChainError.self) {
            try TransactionResult(decoding: without.encoded + [1, 0, 0, 0, 4] + Array("null".utf8))
        }
    }

    /// The vector of `docs/proofs.md` §6, also checked by the Python client's tests.
    @Test func theResultLeafVector() throws {
        let txid = try #require(Hash256(Array(repeating: 0x11, count: 32)))
        let result = TransactionResult(txid: txid, error: nil, events: [], value: try json(#"{"b":["x"],"a":1}"#))
        #expect(
            Hex.encode(result.encoded)
                == "1111111111111111111111111111111111111111111111111111111111111111"
                + "00" + "00000000" + "00000000" + "00000000" + "01" + "00000011" + "7b2261223a312c2262223a5b2278225d7d")
        #expect(
            TransactionResult.root([result], hasher: .sha256).hex
                == "602ad44b43eedaa387e3b3aaad746aef456f39debdd1123912f8e94f53d5ddd3")
        // Null is no value: it encodes as none.
        #expect(TransactionResult(txid: txid, error: nil, events: [], value: .null).encoded.count == 45)
    }

    /// The 三资 contract's `signLease` with a `tenantOrg`: the tenant must be a registered crab
    /// member (a farm, for a pond), not suspended, as the crab contract answers during the
    /// transaction; a member registered earlier in the same block counts.
    @Test func aPondLeaseChecksItsTenantIsACrabFarm() throws {
        let admin = try consortium.identity(.admin)
        let association = try consortium.identity(.association)
        let regulator = try consortium.identity(.regulator, org: "org0")
        let village = try consortium.identity(.village, org: "org0")
        let notice = String(repeating: "b", count: 64)
        func sanzi(_ method: String, _ args: String, _ signer: SigningIdentity) throws -> VerifiedTransaction {
            try tx(
                signer, "wasm", "call",
                .object(["contract": .string("sanzi"), "method": .string(method), "args": try json(args)]))
        }
        func lease(_ id: String, _ item: String, _ org: String) throws -> VerifiedTransaction {
            try sanzi(
                "signLease",
                #"{"id":"\#(id)","item":"\#(item)","tenant":"T","tenantOrg":"\#(org)","annualRentFen":1200000,"startDate":20260301,"termMonths":60,"noticeHash":"\#(notice)"}"#,
                village)
        }
        var state = MemoryState()
        try run(try install("sanzi", try #require(ContractModules.bytes("sanzi")), admin), on: &state)
        let setup = [
            try sanzi("registerVillage", #"{"village":"org0","name":"莲花村","township":"org1"}"#, regulator),
            try sanzi(
                "registerItem", #"{"id":"pond-7","category":"pond","name":"7 号塘","areaCentiMu":3250,"refAnnualRentFen":1200000}"#,
                village),
            try sanzi(
                "registerItem", #"{"id":"land-1","category":"land","name":"1 号地","areaCentiMu":1000,"refAnnualRentFen":1200000}"#,
                village),
            try tx(
                association, "crab", "register_member",
                try json(#"{"org":"shop","role":"merchant","name":"蟹行","licence":"L-2"}"#)),
            try tx(
                association, "crab", "register_member",
                try json(#"{"org":"gone","role":"farm","name":"停","licence":"L-3","areaMu":3,"zone":"z"}"#)),
            try tx(regulator, "crab", "suspend_member", try json(#"{"org":"gone","reason":"fraud"}"#)),
        ]
        #expect(try run([setup], on: &state).results.allSatisfy { $0.succeeded })
        let before = state.values
        let refused = try run(
            [[try lease("L0", "pond-7", "nobody"), try lease("L1", "pond-7", "shop"), try lease("L2", "pond-7", "gone")]],
            on: &state
        ).results
        #expect(refused.map { $0.error?.code.rawValue } == Array(repeating: "tenant_not_member", count: 3))
        let messages = refused.map { $0.error?.message ?? "" }
        #expect(messages[1].contains("must be a crab farm"))
        #expect(state.values == before)
        // A farm registered earlier in the same block leases the pond; a merchant may lease land.
        let ok = try run(
            [
                [
                    try tx(
                        association, "crab", "register_member",
                        try json(#"{"org":"org1","role":"farm","name":"陆永根","licence":"L-1","areaMu":30,"zone":"lake"}"#)),
                    try lease("L3", "pond-7", "org1"), try lease("L4", "land-1", "shop"),
                ]
            ], on: &state
        ).results
        #expect(ok.map { $0.error?.code.rawValue } == [nil, nil, nil], "\(ok.map(\.error))")
        #expect(ok[1].value?["tenantOrg"] == .string("org1"))
        let stored = try JSONParser().parse(try #require(state.values["wasm/state/sanzi/v/org0/lease/L3"]))
        #expect(stored["tenantOrg"] == .string("org1"))
    }
}
