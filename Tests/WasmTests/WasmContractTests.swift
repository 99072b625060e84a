import ChainCore
import ChainTesting
import ContractModules
import Execution
import Foundation
import Identity
import Node
import Storage
import Testing

/// The native `wasm` contract in the block executor: uploads and deployments under the chain
/// configuration's deployer policy, calls as transactions with their writes namespaced, the block's
/// fuel budget, and identical state hashes on independent executors.
@Suite struct WasmContractTests {
    let consortium: TestConsortium
    let verifier: TransactionVerifier

    init() throws {
        consortium = try TestConsortium(orgs: ["org0", "org1"])
        verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try consortium.memberships(), registry: ContractRegistry([WasmContract()]))
    }

    func executor() throws -> BlockExecutor {
        BlockExecutor(
            registry: ContractRegistry([WasmContract()]),
            configSource: try ConfigSource(initial: consortium.genesis.initialConfig), hasher: .sha256)
    }

    func tx(_ signer: SigningIdentity, _ method: String, _ args: JSONValue) throws -> VerifiedTransaction {
        try verifier.verify(
            try signer.transaction(chain: "test-chain", contract: "wasm", method: method, args: args), nowMillis: Fixtures.now)
    }

    func uploads(_ code: [UInt8], _ signer: SigningIdentity) throws -> [VerifiedTransaction] {
        let hash = Hash256.sha256(code).hex
        let part = WasmContract.partBytes
        let parts = max(1, (code.count + part - 1) / part)
        return try (0..<parts).map { n in
            try tx(
                signer, "upload",
                .object([
                    "sha256": .string(hash), "part": .int(Int64(n)), "parts": .int(Int64(parts)),
                    "data": .string(Data(code[(n * part)..<min(code.count, (n + 1) * part)]).base64EncodedString()),
                ]))
        }
    }

    func deploy(_ name: String, _ code: [UInt8], _ signer: SigningIdentity, upgrade: Bool = false) throws
        -> VerifiedTransaction
    {
        try tx(
            signer, upgrade ? "upgrade" : "deploy", .object(["name": .string(name), "code": .string(Hash256.sha256(code).hex)]))
    }

    func call(_ name: String, _ method: String, _ args: JSONValue, _ signer: SigningIdentity) throws -> VerifiedTransaction {
        try tx(signer, "call", .object(["contract": .string(name), "method": .string(method), "args": args]))
    }

    func call(_ name: String, _ method: String, _ signer: SigningIdentity) throws -> VerifiedTransaction {
        try call(name, method, .object([:]), signer)
    }

    /// Runs blocks on `state`, one per list, and returns every record's error code (nil: success).
    @discardableResult
    func run(_ blocks: [[VerifiedTransaction]], on state: inout MemoryState, executor: BlockExecutor? = nil) throws
        -> (codes: [String?], stateHash: Hash256)
    {
        let exec = try executor ?? self.executor()
        var codes: [String?] = []
        var hash = Hash256.zero
        for (i, block) in blocks.enumerated() {
            let out = try exec.execute(
                block, height: UInt64(i + 1), time: Fixtures.now + Int64(i) * 1000, state: state, previousStateHash: hash)
            codes += out.transactions.map { $0.result.error?.code.rawValue }
            state.apply(out.writes)
            hash = out.stateHash
        }
        return (codes, hash)
    }

    @Test func anAdminDeploysAndAFarmMayNotByDefault() throws {
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        let counter = try #require(ContractModules.bytes("counter"))
        var state = MemoryState()
        let refused = try run([try uploads(counter, farm)], on: &state)
        #expect(refused.codes.allSatisfy { $0 == "not_deployer" })
        #expect(state.values.isEmpty)
        let result = try run(
            [try uploads(counter, admin), [try deploy("counter", counter, admin), try call("counter", "increment", farm)]],
            on: &state)
        #expect(result.codes.allSatisfy { $0 == nil }, "\(result.codes)")
        #expect(state.values["wasm/state/counter/counter/default"].map { String(decoding: $0, as: UTF8.self) } == "1")
        #expect(state.values.keys.contains("wasm/code/\(Hash256.sha256(counter).hex)"))
        #expect(!state.values.keys.contains { $0.hasPrefix("wasm/part/") })
    }

    @Test func theConfigurationInForceDecidesWhoMayDeploy() throws {
        // What a passed set_parameters proposal writes: only org1's farms may deploy.
        var config = consortium.genesis.initialConfig
        config.parameters.contractDeployers = ["org1/farm"]
        var state = MemoryState()
        state.apply([StateWrite(key: ConfigSource.stateKey, value: config.canonicalBytes)])
        let counter = try #require(ContractModules.bytes("counter"))
        let admin = try consortium.identity(.admin)
        let otherFarm = try consortium.identity(.farm, org: "org0")
        let farm = try consortium.identity(.farm, org: "org1")
        let parts = try uploads(counter, admin).count
        let codes = try run(
            [try uploads(counter, admin), try uploads(counter, otherFarm), try uploads(counter, farm)], on: &state
        )
        .codes
        let expected: [String?] = Array(repeating: "not_deployer", count: 2 * parts) + Array(repeating: nil, count: parts)
        #expect(codes == expected, "\(codes)")
        #expect(state.values.keys.contains("wasm/code/\(Hash256.sha256(counter).hex)"))
    }

    @Test func hostileModulesAreRefusedAtUploadWithTheirCodes() throws {
        let admin = try consortium.identity(.admin)
        var state = MemoryState()
        let forbidden = try ContractFixtures.module("forbidden")
        let floats = try ContractFixtures.module("floats")
        let garbage = Array("definitely not wasm".utf8)
        // Each module's last part is refused with the module's code (the parts before it are
        // kept, as uploaded, but no code is stored).
        for (module, code) in [(forbidden, "forbidden_import"), (floats, "float_instruction"), (garbage, "invalid_module")] {
            let codes = try run([try uploads(module, admin)], on: &state).codes
            #expect(codes.last == code, "\(codes)")
            #expect(codes.dropLast().allSatisfy { $0 == nil })
        }
        #expect(state.values.keys.allSatisfy { $0.hasPrefix("wasm/part/") })
        // Parts that do not hash to the declared SHA-256 are refused too.
        let counter = try #require(ContractModules.bytes("counter"))
        let wrong = try tx(
            admin, "upload",
            .object([
                "sha256": .string(Hash256.sha256(garbage).hex), "part": .int(0), "parts": .int(1),
                "data": .string(Data(counter.prefix(1000)).base64EncodedString()),
            ]))
        #expect(try run([[wrong]], on: &state).codes == ["code_mismatch"])
        // Deploying code that is not on chain fails.
        #expect(try run([[try deploy("x", counter, admin)]], on: &state).codes == ["code_not_found"])
    }

    @Test func deployersDiscardThePartsOfARefusedUpload() throws {
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        var state = MemoryState()
        // A module of several parts whose last part is refused: the parts before it stay in state.
        let forbidden = try ContractFixtures.module("forbidden")
        let parts = try uploads(forbidden, admin)
        #expect(parts.count >= 2)
        let uploaded = try run([parts], on: &state).codes
        #expect(uploaded == Array(repeating: nil, count: parts.count - 1) + ["forbidden_import"], "\(uploaded)")
        let hash = Hash256.sha256(forbidden).hex
        #expect(state.values.keys.sorted() == (0..<(parts.count - 1)).map { "wasm/part/\(hash)/\($0)" })
        func discard(_ sha: JSONValue, _ signer: SigningIdentity) throws -> VerifiedTransaction {
            try tx(signer, "discard", .object(["sha256": sha]))
        }
        // Only deployers; hostile arguments; then the parts go, and a second discard finds none.
        let before = state.values
        let refused = try run(
            [
                [
                    try discard(.string(hash), farm), try discard(.string("XYZ"), admin),
                    try discard(.string(hash.uppercased()), admin), try discard(.int(1), admin),
                    try tx(admin, "discard", .object(["sha256": .string(hash), "extra": .int(1)])),
                    try discard(.string(Hash256.sha256(Array("nothing".utf8)).hex), admin),
                ]
            ], on: &state)
        #expect(
            refused.codes == ["not_deployer", "bad_args", "bad_args", "bad_args", "bad_args", "not_found"], "\(refused.codes)")
        #expect(state.values == before)
        #expect(try run([[try discard(.string(hash), admin)]], on: &state).codes == [nil])
        #expect(state.values.isEmpty)
        #expect(try run([[try discard(.string(hash), admin)]], on: &state).codes == ["not_found"])
        // Stored code is never discarded: a stored module has no parts left.
        let counter = try #require(ContractModules.bytes("counter"))
        _ = try run([try uploads(counter, admin)], on: &state)
        #expect(try run([[try discard(.string(Hash256.sha256(counter).hex), admin)]], on: &state).codes == ["not_found"])
        #expect(state.values.keys.contains("wasm/code/\(Hash256.sha256(counter).hex)"))
    }

    @Test func aLoopRunsOutOfFuelWritesNothingAndTheBlockGoesOn() throws {
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        let loop = try ContractFixtures.module("loop")
        let counter = try #require(ContractModules.bytes("counter"))
        var state = MemoryState()
        try run(
            [
                try uploads(loop, admin), try uploads(counter, admin),
                [try deploy("loop", loop, admin), try deploy("c", counter, admin)],
            ], on: &state)
        let before = state.values
        let result = try run(
            [[try call("loop", "run", farm), try call("c", "increment", farm)]], on: &state)
        #expect(result.codes == ["out_of_fuel", nil])
        #expect(state.values.keys.filter { $0.hasPrefix("wasm/state/loop/") }.isEmpty)
        #expect(state.values.count == before.count + 1)
    }

    @Test func theBlockFuelBudgetStopsFurtherCallsOfTheBlock() throws {
        var config = consortium.genesis.initialConfig
        config.parameters.contractBlockFuel = 5_000_001
        config.parameters.contractTxFuel = 5_000_000
        var state = MemoryState()
        state.apply([StateWrite(key: ConfigSource.stateKey, value: config.canonicalBytes)])
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        let loop = try ContractFixtures.module("loop")
        let counter = try #require(ContractModules.bytes("counter"))
        try run(
            [
                try uploads(loop, admin), try uploads(counter, admin),
                [try deploy("loop", loop, admin), try deploy("c", counter, admin)],
            ], on: &state)
        let codes = try run(
            [[try call("loop", "run", farm), try call("c", "increment", farm), try call("c", "increment", farm)]], on: &state
        ).codes
        // The loop burns its 5M; the counter's first call gets the one unit left and runs out of
        // the block's fuel, not its own; the second finds none left.
        #expect(codes == ["out_of_fuel", "block_fuel_exhausted", "block_fuel_exhausted"], "\(codes)")
        // The next block has its budget again.
        #expect(try run([[try call("c", "increment", farm)]], on: &state).codes == [nil])
    }

    @Test func upgradeKeepsStateAndFreezeStopsCalls() throws {
        let admin = try consortium.identity(.admin)
        let farm = try consortium.identity(.farm)
        let counter = try #require(ContractModules.bytes("counter"))
        let probe = try ContractFixtures.module("probe")
        var state = MemoryState()
        try run([try uploads(counter, admin), try uploads(probe, admin), [try deploy("c", probe, admin)]], on: &state)
        #expect(try run([[try deploy("c", counter, admin)]], on: &state).codes == ["contract_exists"])
        #expect(try run([[try deploy("nope", counter, admin, upgrade: true)]], on: &state).codes == ["unknown_contract"])
        try run([[try deploy("c", counter, admin, upgrade: true)], [try call("c", "increment", farm)]], on: &state)
        try run([[try call("c", "increment", farm)]], on: &state)
        let record = try JSONParser().parse(try #require(state.values["wasm/contract/c"]))
        #expect(record["version"]?.int64Value == 2)
        #expect(state.values["wasm/state/c/counter/default"].map { String(decoding: $0, as: UTF8.self) } == "2")
        let freeze = try tx(admin, "freeze", .object(["name": .string("c"), "frozen": .bool(true)]))
        #expect(try run([[freeze], [try call("c", "increment", farm)]], on: &state).codes == [nil, "contract_frozen"])
        let farmFreeze = try tx(farm, "freeze", .object(["name": .string("c"), "frozen": .bool(false)]))
        #expect(try run([[farmFreeze]], on: &state).codes == ["not_deployer"])
    }

    /// The 三资 contract in blocks: scans see the block's earlier writes, and four executors, each
    /// with its own runtime and caches, reach the same state hash.
    @Test func sanziGivesTheSameStateHashOnFourExecutors() throws {
        let admin = try consortium.identity(.admin)
        let regulator = try consortium.identity(.regulator, org: "org0")
        let township = try consortium.identity(.township, org: "org1")
        let village = try consortium.identity(.village, org: "org0")
        let sanzi = try #require(ContractModules.bytes("sanzi"))
        func json(_ text: String) throws -> JSONValue { try JSONParser().parse(Array(text.utf8)) }
        let hashA = String(repeating: "a", count: 64)
        let hashB = String(repeating: "b", count: 64)
        let blocks: [[VerifiedTransaction]] = [
            try uploads(sanzi, admin),
            [
                try deploy("sanzi", sanzi, admin),
                try call("sanzi", "registerVillage", try json(#"{"village":"org0","name":"莲花村","township":"org1"}"#), regulator),
                try call(
                    "sanzi", "registerItem",
                    try json(#"{"id":"pond-7","category":"pond","name":"7 号塘","areaCentiMu":3250,"refAnnualRentFen":1200000}"#),
                    village),
                try call(
                    "sanzi", "requestSpending",
                    try json(
                        #"{"id":"S-1","amountFen":8000000,"payee":"b","purpose":"dyke","meetingHash":"\#(hashA)","noticeHash":"\#(hashB)"}"#
                    ), village),
                try call(
                    "sanzi", "requestSpending",
                    try json(
                        #"{"id":"S-2","amountFen":9000000,"payee":"b","purpose":"road","meetingHash":"\#(hashA)","noticeHash":"\#(hashB)"}"#
                    ), village),
            ],
            [
                try call("sanzi", "reviewSpending", try json(#"{"village":"org0","id":"S-1","approve":true}"#), township),
                try call("sanzi", "pay", try json(#"{"id":"P-1","spending":"S-1","amountFen":9000000}"#), village),
                try call("sanzi", "pay", try json(#"{"id":"P-2","spending":"S-2","amountFen":100}"#), village),
            ],
        ]
        var hashes: Set<Hash256> = []
        var lastCodes: [String?] = []
        var finalState = MemoryState()
        for _ in 0..<4 {
            var state = MemoryState()
            let result = try run(blocks, on: &state, executor: try executor())
            hashes.insert(result.stateHash)
            lastCodes = result.codes
            finalState = state
        }
        #expect(hashes.count == 1)
        #expect(Array(lastCodes.suffix(3)) == [nil, "exceeds_approval", "not_approved"], "\(lastCodes)")
        #expect(lastCodes.dropLast(2).allSatisfy { $0 == nil }, "\(lastCodes)")
        // The reviewer's queue, read through the query path over committed state: S-2 is pending.
        let outcome = try WasmContract().query(
            "sanzi", method: "reviewQueue", args: .object([:]),
            signer: WasmSigner(org: "org1", role: "township", subject: "njz", certificateFingerprint: ""), height: 3,
            time: 0, state: finalState)
        #expect(outcome.error == nil, "\(String(describing: outcome.error))")
        #expect(outcome.result.canonicalString.contains("S-2"))
        #expect(!outcome.result.canonicalString.contains("S-1"))
    }
}
