import ChainClient
import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Governance with real processes, real TLS and the command line, as operators do it: a fifth org
/// made by its own key ceremony joins a running 4-validator network by proposal and approvals,
/// its farm transacts, its node (started from block sync) becomes a validator, and an original
/// validator is removed, all under load; nothing acknowledged is lost and the validators of the
/// new set hold the same chain.
@Suite(.serialized) struct GovernanceProcessTests {
    func cli(_ args: [String]) async throws -> String {
        let r = try await XiangChainBinary.run(args)
        #expect(r.status == 0, "xiangchain \(args.prefix(3).joined(separator: " ")): \(r.output)")
        return r.output
    }

    func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    /// Runs the console's proof verifier under Node (WebCrypto Ed25519) on a proof file; nil when
    /// Node is not installed.
    func verifyInJavaScript(proof: URL, genesis: URL, in dir: URL) async throws -> JSONValue? {
        let root = XiangChainBinary.packageRoot
        // proof.js and the module it imports (gm.js, SM3 and SM2), as ES modules.
        let js = dir.appendingPathComponent("js")
        try FileManager.default.createDirectory(at: js, withIntermediateDirectories: true)
        for name in ["proof.js", "gm.js"] {
            let target = js.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: root.appendingPathComponent("Sources/API/Console/js/\(name)"), to: target)
        }
        try Data(#"{"type": "module"}"#.utf8).write(to: js.appendingPathComponent("package.json"))
        let script = dir.appendingPathComponent("verify.mjs")
        try Data(
            """
            import { readFileSync } from "node:fs";
            if (!globalThis.crypto?.subtle) globalThis.crypto = (await import("node:crypto")).webcrypto;
            const { verifyProof } = await import("./js/proof.js");
            const r = await verifyProof(JSON.parse(readFileSync(process.argv[2])), JSON.parse(readFileSync(process.argv[3])));
            console.log(JSON.stringify(r));
            """.utf8
        ).write(to: script)
        // Node 18 (Debian 12's) calls WebCrypto Ed25519 experimental and says so on stderr.
        guard let r = try await runTool("node", ["--no-warnings", script.path, proof.path, genesis.path]) else { return nil }
        #expect(r.status == 0, "\(r.output)")
        let line = r.output.split(separator: "\n").last { $0.hasPrefix("{") }.map(String.init) ?? r.output
        return try JSONParser().parse(Array(line.utf8))
    }

    /// Runs the Python client's offline verifier on a proof file; nil when Python is not installed.
    func verifyInPython(proof: URL, genesis: String, expectValid: Bool = true) async throws -> String? {
        let root = XiangChainBinary.packageRoot
        let script = root.appendingPathComponent("clients/python/xiangchain_client.py").path
        guard let r = try await runTool("python3", [script, "verify", proof.path, genesis]) else { return nil }
        #expect((r.status == 0) == expectValid, "\(r.output)")
        return r.output
    }

    @Test func aFifthOrgJoinsItsNodeBecomesAValidatorAndAnOriginalOneLeavesUnderLoad() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 5)
            _ = try await cli([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "gov-test", "--base-port", String(base),
            ])
            try quickenConsensus(dir, validators: 4)
            let org4 = dir.appendingPathComponent("org4")
            _ = try await cli([
                "org", "init", "--org", "org4", "--dir", org4.path, "--roles", "farm",
                "--node", "node4,127.0.0.1:\(base + 1004),http://127.0.0.1:\(base + 4),listen=127.0.0.1",
            ])
            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            var nodes = try (0..<4).map { try NodeProcess(home: homes[$0], port: base + $0) }
            for n in nodes { try await n.waitUntilReady() }
            let url = { (k: Int) in "http://127.0.0.1:\(base + k)" }
            let admin = { (org: String) in dir.appendingPathComponent("identities/\(org)-admin").path }

            // Load from org1's admin, to validators 1–3, all along.
            let signer = try SigningIdentity(directory: URL(fileURLWithPath: admin("org1")))
            let acknowledged = Mutex<[String]>([])
            let loading = Atomic<Bool>(true)
            let clients = try (1...3).map { try ChainClient(url($0)) }
            let load = Task {
                var i = 0
                while loading.load(ordering: .relaxed) {
                    let tx = try signer.transaction(
                        chain: "gov-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                    if (try? await clients[i % 3].submit(tx)) != nil { acknowledged.withLock { $0.append(tx.txid) } }
                    i += 1
                    try await Task.sleep(for: .milliseconds(30))
                }
            }

            // org4's farm is refused until org4 is admitted.
            _ = try await cli([
                "identity", "issue", "--ca", org4.appendingPathComponent("ca").path, "--out",
                org4.appendingPathComponent("identities/farm-a").path, "--role", "farm", "--name", "farm-a",
            ])
            let farmTx = { () -> [String] in
                [
                    "tx", "--identity", org4.appendingPathComponent("identities/farm-a").path, "--contract", "evidence",
                    "--method", "put", "--args", Fixtures.evidenceArgs().canonicalString, "--node", url(1),
                ]
            }
            let refused = try await XiangChainBinary.run(farmTx())
            #expect(refused.status != 0 && refused.output.contains("unknown_ca"), "\(refused.output)")

            // Admit org4 with its validator: critical, so 3 of the 4 orgs approve.
            _ = try await cli([
                "gov", "propose", "--identity", admin("org0"), "--node", url(0), "--description", "admit org4 and its node",
                "--add-org", org4.appendingPathComponent("card.json").path, "--with-validators",
            ])
            for org in ["org1", "org2"] {
                _ = try await cli(["gov", "approve", "P-000001", "--identity", admin(org), "--node", url(2)])
            }
            func epochEverywhere(_ epoch: Int64, _ which: ClosedRange<Int>) async throws -> Bool {
                try await waitUntil(.seconds(30)) {
                    for k in which where try await ChainClient(url(k)).status()["configuration"]?["epoch"]?.int64Value != epoch {
                        return false
                    }
                    return true
                }
            }
            #expect(try await epochEverywhere(1, 0...3))
            // Its farm transacts now.
            _ = try await cli(farmTx())

            // org4's node: install the genesis, start it; it syncs, then joins consensus.
            _ = try await cli([
                "org", "install", "--dir", org4.path, "--genesis", dir.appendingPathComponent("genesis.json").path,
            ])
            var config4 = try NodeConfig.load(from: org4.appendingPathComponent("nodes/node4/config.json"))
            config4.consensusTimeoutMs = 1_000
            config4.emptyBlockDelayMs = 200
            try config4.write(to: org4.appendingPathComponent("nodes/node4/config.json"))
            let node4 = try NodeProcess(home: org4.appendingPathComponent("nodes/node4"), port: base + 4)
            try await node4.waitUntilReady()
            #expect(
                try await waitUntil(.seconds(60)) {
                    let s = try await ChainClient(url(4)).status()
                    return s["mode"]?.stringValue == "bft" && s["consensus"]?["voter"]?.boolValue == true
                }, "\(node4.logTail())")

            // Remove node0: critical, 4 of the 5 orgs.
            _ = try await cli([
                "gov", "propose", "--identity", admin("org0"), "--node", url(1), "--description", "retire node0",
                "--remove-validator", "node0",
            ])
            for (org, k) in [("org1", 1), ("org2", 2)] {
                _ = try await cli(["gov", "approve", "P-000002", "--identity", admin(org), "--node", url(k)])
            }
            _ = try await cli([
                "gov", "approve", "P-000002", "--identity", org4.appendingPathComponent("admin").path, "--node", url(4),
            ])
            #expect(try await epochEverywhere(2, 1...4))
            nodes[0].stop(signal: SIGKILL)

            // The new set goes on without node0; everything acknowledged is on every validator of it.
            try await Task.sleep(for: .seconds(2))
            loading.store(false, ordering: .relaxed)
            _ = try? await load.value
            let all = acknowledged.withLock { $0 }
            #expect(all.count > 20)
            for k in 1...4 {
                let client = try ChainClient(url(k))
                #expect(
                    try await waitUntil(.seconds(60)) {
                        for txid in all where try await client.transaction(txid)?["status"]?.stringValue != "committed" {
                            return false
                        }
                        return true
                    }, "node\(k) misses acknowledged transactions")
            }
            let tips = try await (1...4).asyncMap { try await ChainClient(url($0)).status()["lastBlockHash"]?.stringValue }
            #expect(
                try await waitUntil(.seconds(30)) {
                    Set(try await (1...4).asyncMap { try await ChainClient(url($0)).status()["lastBlockHash"]?.stringValue })
                        .count == 1
                }, "\(tips)")
            // Proofs check from the genesis alone: a transaction of the last epoch (signed by a set
            // the genesis never named) through the two signed epoch changes, and one of epoch 0.
            let genesisPath = dir.appendingPathComponent("genesis.json").path
            // Epoch-change signatures travel by gossip, sent again until peers hold them: wait for
            // node1 to hold a quorum of the set before each change.
            #expect(
                try await waitUntil(.seconds(30)) {
                    let epochs = try await ChainClient(url(1)).get("/v1/governance/epochs")["epochs"]?.arrayValue ?? []
                    let counts = epochs.filter { ($0["epoch"]?.int64Value ?? 0) > 0 }
                        .compactMap { $0["change"]?["signatures"]?.arrayValue?.count }
                    return counts.count == 2 && counts[0] >= 3 && counts[1] >= 4
                }, "epoch-change signatures did not reach node1")
            for txid in [all.first!, all.last!] {
                let proof = try await ChainClient(url(1)).get("/v1/txs/\(txid)/proof")
                let file = dir.appendingPathComponent("proof-\(txid.prefix(8)).json")
                try Data(proof.canonicalBytes).write(to: file)
                let out = try await cli(["verify-proof", file.path, "--genesis", genesisPath])
                #expect(out.contains("OK: transaction"), "\(out)")
                if txid == all.last! {
                    #expect(proof["epochs"]?.arrayValue?.count == 2, "\(proof["epochs"]?.canonicalString ?? "")")
                    #expect(out.contains("following 2 validator-set changes"), "\(out)")
                    // The Python client agrees...
                    let python = try await verifyInPython(proof: file, genesis: genesisPath)
                    if let python { #expect(python.contains("following 2 validator-set change(s)"), "\(python)") }
                    // ...and so does the browser's verifier (the console's proof.js, run by Node's WebCrypto).
                    let genesisJSON = dir.appendingPathComponent("genesis-api.json")
                    try Data(try await ChainClient(url(1)).get("/v1/genesis").canonicalBytes).write(to: genesisJSON)
                    let browser = try await verifyInJavaScript(proof: file, genesis: genesisJSON, in: dir)
                    if let browser {
                        #expect(browser["inclusion"]?["ok"]?.boolValue == true, "\(browser.canonicalString)")
                        #expect(browser["signatures"]?["epochs"]?.int64Value == 2, "\(browser.canonicalString)")
                        let valid = browser["signatures"]?["valid"]?.arrayValue?.count ?? 0
                        #expect(valid >= 3 && Int64(valid) >= browser["signatures"]?["quorum"]?.int64Value ?? 99)
                    }
                    // Without the changes' signatures, the new set proves nothing.
                    var forged = proof.objectValue ?? [:]
                    forged["epochs"] = .array(
                        (proof["epochs"]?.arrayValue ?? []).map { e in
                            var o = e.objectValue ?? [:]
                            o["signatures"] = .array([])
                            return .object(o)
                        })
                    try Data(JSONValue.object(forged).canonicalBytes).write(to: file)
                    let refused = try await XiangChainBinary.run(["verify-proof", file.path, "--genesis", genesisPath])
                    #expect(refused.status != 0 && refused.output.contains("epoch 1 is signed by 0"), "\(refused.output)")
                    if let python = try await verifyInPython(proof: file, genesis: genesisPath, expectValid: false) {
                        #expect(python.contains("INVALID: epoch 1 is signed by 0"), "\(python)")
                    }
                    if let browser = try await verifyInJavaScript(proof: file, genesis: genesisJSON, in: dir) {
                        #expect(browser["signatures"]?["why"]?.stringValue == "epochs", "\(browser.canonicalString)")
                        #expect(browser["signatures"]?["detail"]?.stringValue?.contains("epoch 1 is signed by 0") == true)
                    }
                }
            }
            for n in nodes.dropFirst() { #expect(n.stop(signal: SIGTERM) == 0) }
            #expect(node4.stop(signal: SIGTERM) == 0)
            nodes.removeAll()
        }
    }
}

extension ClosedRange where Bound == Int {
    func asyncMap<T>(_ transform: (Int) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for i in self { out.append(try await transform(i)) }
        return out
    }
}
