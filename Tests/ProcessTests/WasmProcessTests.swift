import ChainClient
import ChainCore
import ChainTesting
import ContractModules
import Foundation
import Identity
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// WebAssembly contracts on a real 4-validator devnet (processes, TLS, SQLite): the 三资 contract
/// is uploaded in parts, deployed by an org admin and run by the district's regulator, a township
/// and a village of their own orgs; a farm may not deploy; hostile modules are refused at upload
/// or fail with their code while the chain goes on; the four validators keep the same blocks.
@Suite(.serialized) struct WasmProcessTests {
    func cli(_ args: [String]) async throws -> String {
        let r = try await XiangChainBinary.run(args)
        #expect(r.status == 0, "xiangchain \(args.prefix(3).joined(separator: " ")): \(r.output)")
        return r.output
    }

    @Test func theSanziContractRunsOnADevnetAndHostileModulesAreRefused() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let chain = "wasm-test"
            _ = try await cli([
                "init", "--dir", dir.path, "--orgs", "district,township1,lianhua,farmco", "--chain-id", chain,
                "--base-port", String(base), "--roles", "district=regulator,node", "--roles", "township1=township,node",
                "--roles", "lianhua=village,node", "--roles", "farmco=farm,node",
            ])
            try quickenConsensus(dir, validators: 4)
            for (org, role, name) in [
                ("district", "regulator", "reg"), ("township1", "township", "njz"), ("lianhua", "village", "clerk"),
                ("farmco", "farm", "farmer"),
            ] {
                _ = try await cli(["identity", "issue", "--dir", dir.path, "--org", org, "--role", role, "--name", name])
            }
            let nodes = try (0..<4).map {
                try NodeProcess(home: dir.appendingPathComponent("nodes/\($0)"), port: base + $0)
            }
            for n in nodes { try await n.waitUntilReady() }
            let client = try ChainClient("http://127.0.0.1:\(base + 1)")
            func identity(_ name: String) throws -> SigningIdentity {
                try SigningIdentity(directory: dir.appendingPathComponent("identities/\(name)"))
            }
            let admin = try identity("district-admin")
            let farmer = try identity("farmer")

            func submit(_ tx: SignedTransaction) async throws -> SubmitOutcome {
                try await client.submitAndWait(tx, timeout: .seconds(60))
            }
            func upload(_ code: [UInt8], as signer: SigningIdentity) async throws -> ChainError? {
                var last: ChainError?
                for tx in try ContractUpload.uploads(code, signer: signer, chain: chain) {
                    let outcome = try await submit(tx)
                    #expect(outcome.height != nil, "\(outcome)")
                    last = outcome.error
                    if last != nil { break }
                }
                return last
            }

            // A farm may not put code on chain (the default policy: org admins).
            let sanzi = try #require(ContractModules.bytes("sanzi"))
            #expect(try await upload(sanzi, as: farmer)?.code == .notDeployer)

            // An admin uploads the 三资 module in parts and deploys it.
            #expect(try await upload(sanzi, as: admin) == nil)
            let hash = ContractUpload.hash(sanzi)
            let deployed = try await submit(
                try ContractUpload.deploy(name: "sanzi", hash: hash, signer: admin, chain: chain))
            #expect(deployed.error == nil, "\(deployed)")
            let again = try await submit(try ContractUpload.deploy(name: "sanzi", hash: hash, signer: admin, chain: chain))
            #expect(again.error?.code == .contractExists)
            let (status, record) = try await HTTP.get(URL(string: "http://127.0.0.1:\(base + 2)/v1/wasm/contracts/sanzi")!)
            #expect(status == 200 && record["code"]?.stringValue == hash && record["version"]?.int64Value == 1)

            // The district registers the village, the village leases a pond and spends; the
            // township approves; a payment above the approval is refused with the contract's code.
            func call(_ method: String, _ args: String, as name: String) async throws -> SubmitOutcome {
                try await submit(
                    try ContractUpload.call(
                        name: "sanzi", method: method, args: try JSONParser().parse(Array(args.utf8)),
                        signer: try identity(name), chain: chain))
            }
            let steps: [(String, String, String)] = [
                (
                    "registerVillage",
                    #"{"village":"lianhua","name":"莲花村","township":"township1","openingBalanceFen":100000000}"#, "reg"
                ),
                (
                    "registerItem",
                    #"{"id":"pond-7","category":"pond","name":"7 号塘","areaCentiMu":3250,"refAnnualRentFen":1200000}"#, "clerk"
                ),
                (
                    "signLease",
                    #"{"id":"L-1","item":"pond-7","tenant":"farmco","annualRentFen":1000000,"startDate":20250101,"termMonths":60,"noticeHash":"\#(String(repeating: "b", count: 64))"}"#,
                    "clerk"
                ),
                (
                    "requestSpending",
                    #"{"id":"S-1","amountFen":8000000,"payee":"builder","purpose":"dyke","meetingHash":"\#(String(repeating: "a", count: 64))","noticeHash":"\#(String(repeating: "b", count: 64))"}"#,
                    "clerk"
                ),
                ("reviewSpending", #"{"village":"lianhua","id":"S-1","approve":true,"approvedFen":7000000}"#, "njz"),
            ]
            for (method, args, who) in steps {
                let outcome = try await call(method, args, as: who)
                #expect(outcome.error == nil, "\(method): \(outcome)")
            }
            let over = try await call("pay", #"{"id":"P-1","spending":"S-1","amountFen":7500000}"#, as: "clerk")
            #expect(over.error?.code.rawValue == "exceeds_approval", "\(over)")
            let stranger = try await call("reviewSpending", #"{"village":"lianhua","id":"S-1","approve":true}"#, as: "farmer")
            #expect(stranger.error != nil)
            // A tenant named by its org must be a crab member: the contract asks the crab
            // contract (a native query, on every validator); farmco is not registered with it.
            let pond8 = try await call(
                "registerItem", #"{"id":"pond-8","category":"pond","name":"8 号塘","areaCentiMu":3000}"#, as: "clerk")
            #expect(pond8.error == nil, "\(pond8)")
            let notMember = try await call(
                "signLease",
                #"{"id":"L-2","item":"pond-8","tenant":"farmco","tenantOrg":"farmco","annualRentFen":1000000,"startDate":20250101,"termMonths":60,"noticeHash":"\#(String(repeating: "b", count: 64))"}"#,
                as: "clerk")
            #expect(notMember.error?.code.rawValue == "tenant_not_member", "\(notMember)")

            // The public disclosure, read through any node.
            let (qs, disclosure) = try await HTTP.post(
                URL(string: "http://127.0.0.1:\(base + 3)/v1/wasm/contracts/sanzi/query")!,
                Array(#"{"method":"disclosure","args":{"village":"lianhua"}}"#.utf8))
            #expect(qs == 200, "\(disclosure)")
            let kinds = (disclosure["result"]?["alerts"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue }
            #expect(kinds.contains("lease_without_bidding") && kinds.contains("lease_below_reference"), "\(kinds)")
            #expect(disclosure["result"]?["leases"]?.arrayValue?.count == 1)

            // Hostile modules: an import of a forbidden function is refused at upload; an infinite
            // loop fails with out_of_fuel, writes nothing, and the chain goes on.
            let forbidden = try ContractFixtures.module("forbidden")
            #expect(try await upload(forbidden, as: admin)?.code == .forbiddenImport)
            #expect(try await upload(Array("not a module at all".utf8), as: admin)?.code == .invalidModule)
            let loop = try ContractFixtures.module("loop")
            #expect(try await upload(loop, as: admin) == nil)
            let loopDeploy = try await submit(
                try ContractUpload.deploy(name: "loop", hash: ContractUpload.hash(loop), signer: admin, chain: chain))
            #expect(loopDeploy.error == nil)
            let spin = try await submit(
                try ContractUpload.call(name: "loop", method: "run", args: .object([:]), signer: farmer, chain: chain))
            #expect(spin.error?.code == .outOfFuel, "\(spin)")
            let after = try await call("checkOverdue", #"{"village":"lianhua"}"#, as: "reg")
            #expect(after.error == nil, "\(after)")

            // An upgrade keeps the state: the counter replaces the loop, and a freeze stops calls.
            let counter = try #require(ContractModules.bytes("counter"))
            #expect(try await upload(counter, as: admin) == nil)
            let upgraded = try await submit(
                try ContractUpload.deploy(
                    name: "loop", hash: ContractUpload.hash(counter), upgrade: true, signer: admin, chain: chain))
            #expect(upgraded.error == nil)
            for _ in 0..<2 {
                let step = try await submit(
                    try ContractUpload.call(name: "loop", method: "increment", args: .object([:]), signer: farmer, chain: chain))
                #expect(step.error == nil, "\(step)")
            }
            // The call's result value is recorded with the transaction and printed by the CLI.
            let printed = try await cli([
                "contract", "call", "loop", "increment", "--identity", dir.appendingPathComponent("identities/farmer").path,
                "--node", "http://127.0.0.1:\(base)",
            ])
            #expect(printed.contains(#"{"name":"default","value":3}"#), "\(printed)")
            let txid = try #require(printed.split(separator: " ").dropFirst().first.map(String.init))
            // Read on another node, which may commit the block a moment after the node the CLI asked.
            var (txStatus, view) = try await HTTP.get(URL(string: "http://127.0.0.1:\(base + 3)/v1/txs/\(txid)")!)
            let deadline = ContinuousClock.now + .seconds(20)
            while view["status"]?.stringValue == "pending", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                (txStatus, view) = try await HTTP.get(URL(string: "http://127.0.0.1:\(base + 3)/v1/txs/\(txid)")!)
            }
            #expect(txStatus == 200 && view["result"]?["value"]?.int64Value == 3, "\(view)")
            let frozen = try await submit(
                try admin.transaction(
                    chain: chain, contract: "wasm", method: "freeze",
                    args: .object(["name": .string("loop"), "frozen": .bool(true)])))
            #expect(frozen.error == nil)
            let refused = try await submit(
                try ContractUpload.call(name: "loop", method: "increment", args: .object([:]), signer: farmer, chain: chain))
            #expect(refused.error?.code == .contractFrozen)

            // Hostile reads of the query route: each gets its code, none changes anything.
            let api = "http://127.0.0.1:\(base + 2)/v1/wasm/contracts"
            let hostile: [(String, String, Int, String)] = [
                ("loop", #"{"method":"increment"}"#, 422, "read_only"),
                ("nope", #"{"method":"disclosure"}"#, 400, "unknown_contract"),
                ("sanzi", #"{"method":"disclosure","extra":1}"#, 400, "malformed"),
                ("sanzi", #"{"method":""}"#, 400, "malformed"),
                ("sanzi", "not json", 400, "malformed_json"),
                ("sanzi", #"{"method":"disclosure","args":{"village":"lianhua","bogus":1}}"#, 400, "bad_args"),
                ("sanzi", #"{"method":"reviewQueue"}"#, 403, "role_not_allowed"),
            ]
            for (name, body, expected, code) in hostile {
                let (s, reply) = try await HTTP.post(URL(string: "\(api)/\(name)/query")!, Array(body.utf8))
                #expect(s == expected && reply["error"]?["code"]?.stringValue == code, "\(name) \(body): \(s) \(reply)")
            }
            let (missing, _) = try await HTTP.get(URL(string: "\(api)/nope")!)
            #expect(missing == 404)

            // The four validators hold the same blocks (state hashes included) up to here.
            let height = after.height ?? 1
            var blocks: [JSONValue] = []
            for k in 0..<4 {
                let (s, block) = try await HTTP.get(URL(string: "http://127.0.0.1:\(base + k)/v1/blocks/\(height)")!)
                #expect(s == 200)
                blocks.append(block)
            }
            #expect(Set(blocks.map { "\($0["hash"]?.stringValue ?? "")/\($0["stateHash"]?.stringValue ?? "")" }).count == 1)
            #expect(blocks.first?["stateHash"]?.stringValue?.count == 64)
            for n in nodes { _ = n.stop(signal: SIGTERM) }
        }
    }
}
