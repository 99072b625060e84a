import ChainCore
import ChainTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The command-line tool, run as a user would.
@Suite(.serialized) struct CLITests {
    @Test func codesMakesPrintableSheetsWhoseQRCodesDecodeAndKeepsOnlyHashesForTheChain() async throws {
        try await withTemporaryDirectory { dir in
            let out = dir.appendingPathComponent("batch").path
            let made = try await XiangChainBinary.run([
                "codes", "rings", "--gtin", "09521234543213", "--from", "7", "--count", "21", "--prefix", "R", "--out", out,
                "--png",
            ])
            #expect(made.status == 0, "\(made.output)")
            let csv = try String(contentsOfFile: "\(out)/codes.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            #expect(csv.count == 21)
            let rows = csv.map { $0.split(separator: ",").map(String.init) }
            #expect(rows[0][2] == "01/09521234543213/21/R000007")
            // The secrets stay in the CSV (mode 600); the commissioning args carry only their salted hashes.
            let mode = try FileManager.default.attributesOfItem(atPath: "\(out)/codes.csv")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let commission = try JSONParser().parse(Array(try Data(contentsOf: URL(fileURLWithPath: "\(out)/commission.json"))))
            let rings = commission["rings"]?.arrayValue ?? []
            #expect(rings.count == 21 && commission["gtin"]?.stringValue == "09521234543213")
            let text = String(decoding: commission.canonicalBytes, as: UTF8.self)
            for row in rows { #expect(!text.contains(row[3])) }
            // Each hash is SHA-256("XIANGCHAIN-CODE-V1" 0 key 0 secret), as docs/crabtrace.md says.
            let expected = Hash256.sha256(
                Array("XIANGCHAIN-CODE-V1".utf8) + [0] + Array(rows[0][2].utf8) + [0] + Array(rows[0][3].utf8))
            #expect(rings[0]["secretHash"]?.stringValue == expected.hex)
            // Two A4 pages of 20, and every PNG decodes (with the real zbar decoder) to its URI.
            #expect(FileManager.default.fileExists(atPath: "\(out)/sheet-2.svg"))
            let pngs = try FileManager.default.contentsOfDirectory(atPath: "\(out)/png").sorted()
            #expect(pngs.count == 21)
            let zbar = Process()
            zbar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            zbar.arguments = ["zbarimg", "--raw", "-q", "\(out)/png/\(pngs[0])"]
            let pipe = Pipe()
            zbar.standardOutput = pipe
            zbar.standardError = FileHandle.nullDevice
            try zbar.run()
            zbar.waitUntilExit()
            let decoded = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(
                decoded.trimmingCharacters(in: .whitespacesAndNewlines) == rows[0][0],
                "zbarimg (scripts/install-deps installs zbar-tools)")
            // Bad input: a GTIN with a wrong check digit, a missing GTIN.
            let bad = try await XiangChainBinary.run(["codes", "rings", "--gtin", "09521234543214", "--out", out])
            #expect(bad.status != 0 && bad.output.contains("check digit"), "\(bad.output)")
            let none = try await XiangChainBinary.run(["codes", "rings", "--out", out])
            #expect(none.status != 0 && none.output.contains("--gtin"))
        }
    }

    @Test func benchIdleTimesSequentialTransactionsAndRefusesBadCounts() async throws {
        try await withTemporaryDirectory { dir in
            let json = dir.appendingPathComponent("idle.json").path
            let run = try await XiangChainBinary.run(["bench", "--nodes", "4", "--idle", "5", "--json", json])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("idle latency") && run.output.contains("p99"), "\(run.output)")
            let r = try JSONParser().parse(Array(try Data(contentsOf: URL(fileURLWithPath: json))))
            #expect(r["mode"]?.stringValue == "idle" && r["committed"]?.int64Value == 5 && r["notCommitted"]?.int64Value == 0)
            let p50 = Double(r["latencyMs"]?["p50"]?.stringValue ?? "") ?? -1
            let p99 = Double(r["latencyMs"]?["p99"]?.stringValue ?? "") ?? -1
            #expect(p50 > 0 && p99 >= p50, "\(r.canonicalString)")
            for bad in ["0", "10001", "-3"] {
                let refused = try await XiangChainBinary.run(["bench", "--idle", bad])
                #expect(refused.status != 0 && refused.output.contains("--idle"), "\(bad): \(refused.output)")
            }
        }
    }

    /// CI once failed with only "the network did not come up": a node had exited at start because
    /// its port was taken, and the bench dropped the reason. Now the bench says which node exited
    /// and why (its log's last lines), here with node0's p2p port held by another listener.
    @Test func benchSaysWhyItsNetworkDidNotComeUp() async throws {
        let base = freePortBlock(count: 4)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(base + 1000).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        let run = try await XiangChainBinary.run(["bench", "--nodes", "4", "--idle", "1", "--base-port", "\(base)"])
        #expect(run.status != 0, "\(run.output)")
        #expect(run.output.contains("bench_failed: the network did not come up"), "\(run.output)")
        #expect(run.output.contains("node0 exited"), "\(run.output)")
        #expect(run.output.contains("bind_failed") && run.output.contains("127.0.0.1:\(base + 1000)"), "\(run.output)")
    }

    /// `bench-pipeline`: a validator's per-transaction work in one thread (docs/performance.md).
    /// Every prepared transaction is admitted and committed in blocks of the size asked; a run is
    /// repeatable (a fresh database each time, the transactions' own clock); a prepared
    /// transaction whose signature was altered stops the run with the admission's error, not a
    /// count that leaves it out.
    @Test func benchPipelineCommitsEveryPreparedTransactionAndRefusesAForgedOne() async throws {
        try await withTemporaryDirectory { dir in
            let prepared = try await XiangChainBinary.run(["bench-pipeline", "prepare", "--dir", dir.path, "--count", "150"])
            #expect(prepared.status == 0, "\(prepared.output)")
            for _ in 0..<2 {
                let run = try await XiangChainBinary.run([
                    "bench-pipeline", "run", "--dir", dir.path, "--limit", "100", "--batch", "16", "--block", "40",
                ])
                #expect(run.status == 0, "\(run.output)")
                #expect(run.output.contains("committed 100 transactions in 3 blocks"), "\(run.output)")
            }
            let all = try await XiangChainBinary.run(["bench-pipeline", "run", "--dir", dir.path, "--sync-full"])
            #expect(all.output.contains("committed 150 transactions in 1 block:"), "\(all.output)")
            // The 120th envelope's signature, one character changed (still base64 of 64 bytes).
            let file = dir.appendingPathComponent("pipeline-txs.jsonl")
            var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
            let envelope = try JSONParser().parse(Array(lines[119].utf8))
            let signature = try #require(envelope["signature"]?.stringValue)
            let forged = (signature.first == "A" ? "B" : "A") + signature.dropFirst()
            lines[119] = lines[119].replacingOccurrences(of: signature, with: forged)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
            let refused = try await XiangChainBinary.run(["bench-pipeline", "run", "--dir", dir.path])
            #expect(refused.status != 0, "\(refused.output)")
            #expect(refused.output.contains("bad_signature"), "\(refused.output)")
            // Hostile settings are refused before anything runs.
            let none = try await XiangChainBinary.run(["bench-pipeline", "prepare", "--dir", dir.path, "--count", "0"])
            #expect(none.status != 0 && none.output.contains("--count"), "\(none.output)")
            let bad = try await XiangChainBinary.run(["bench-pipeline", "run", "--dir", dir.path, "--batch", "0"])
            #expect(bad.status != 0 && bad.output.contains("--batch"), "\(bad.output)")
            let empty = try await XiangChainBinary.run([
                "bench-pipeline", "run", "--dir", dir.appendingPathComponent("none").path,
            ])
            #expect(empty.status != 0 && empty.output.contains("bad_config: no prepared transactions"), "\(empty.output)")
        }
    }

    /// A 1 M-transaction growth run pre-signed its window with one timestamp and, once the run
    /// outlasted the nodes' tolerance, every further transaction was refused `stale_timestamp`.
    /// Shown here with the tolerance cut to 4 s: a run of 9 s signs again what is older than 1 s as
    /// it sends it, and none is refused or lost. (With `--restamp-after 3600` the same run had 205
    /// of 360 refused `stale_timestamp`: see the next test.)
    @Test func benchSignsAgainWhatOutlastsTheNodesTimestampTolerance() async throws {
        try await withTemporaryDirectory { dir in
            let json = dir.appendingPathComponent("fresh.json").path
            let run = try await XiangChainBinary.run([
                "bench", "--nodes", "4", "--workload", "scans", "--duration", "9", "--rate", "40", "--clients", "4",
                "--set", "timestampToleranceMs=4000", "--restamp-after", "1", "--json", json,
            ])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("signed again within it"), "\(run.output)")
            let r = try JSONParser().parse(Array(try Data(contentsOf: URL(fileURLWithPath: json))))
            #expect(r["failed"]?.int64Value == 0, "\(r.canonicalString)")
            #expect(r["lost"]?.int64Value == 0 && (r["acknowledged"]?.int64Value ?? 0) > 200, "\(r.canonicalString)")
            #expect((r["restamped"]?.int64Value ?? 0) > 200, "\(r.canonicalString)")
            #expect(r["committed"]?.int64Value == r["acknowledged"]?.int64Value, "\(r.canonicalString)")
            #expect(r["executionSample"]?["failed"]?.int64Value == 0, "\(r.canonicalString)")
            #expect(r["settings"]?["workload"]?.stringValue == "scans")
            // Each submission's answer time, and how far behind the offered rate it was sent.
            #expect((r["answerMs"]?["acknowledged"]?["p50"]?.doubleValue ?? 0) > 0, "\(r.canonicalString)")
            #expect(r["sentLateMs"]?["p99"]?.doubleValue != nil, "\(r.canonicalString)")
            #expect(run.output.contains("answers ms") && run.output.contains("sent behind schedule"), "\(run.output)")

            let refused = try await XiangChainBinary.run(["bench", "--restamp-after", "-1"])
            #expect(refused.status != 0 && refused.output.contains("--restamp-after"), "\(refused.output)")
        }
    }

    /// The same run without signing again (`--restamp-after 3600`) outlasts the 4 s tolerance:
    /// what is sent in its last second of tolerance is admitted, but no leader proposes it any more
    /// (too close to the end) and the nodes drop it as expired. The bench asks after the
    /// acknowledged transactions no block brings and counts those as expired: not committed, not
    /// lost, and not waited for. (Before: it polled for them until its minute of drain ran out,
    /// then reported them lost.)
    @Test func benchCountsWhatTheNodesDropForAgeAsExpiredNotLost() async throws {
        try await withTemporaryDirectory { dir in
            let json = dir.appendingPathComponent("stale.json").path
            let started = ContinuousClock.now
            let run = try await XiangChainBinary.run([
                "bench", "--nodes", "4", "--workload", "scans", "--duration", "9", "--rate", "40", "--clients", "4",
                "--set", "timestampToleranceMs=4000", "--restamp-after", "3600", "--json", json,
            ])
            #expect(run.status == 0, "\(run.output)")
            let r = try JSONParser().parse(Array(try Data(contentsOf: URL(fileURLWithPath: json))))
            let acknowledged = r["acknowledged"]?.int64Value ?? 0
            let committed = r["committed"]?.int64Value ?? 0
            let expired = r["expired"]?.int64Value ?? 0
            #expect(expired > 0 && committed > 0, "\(r.canonicalString)")
            #expect(committed + expired == acknowledged, "\(r.canonicalString)")
            #expect(r["lost"]?.int64Value == 0, "\(r.canonicalString)")
            #expect((r["failedCodes"]?["stale_timestamp"]?.int64Value ?? 0) > 0, "\(r.canonicalString)")
            #expect(run.output.contains("expired \(expired) (acknowledged, then dropped for age"), "\(run.output)")
            print(
                "bench with expired transactions: \(expired) expired, \(committed) committed, run took \(ContinuousClock.now - started)"
            )
        }
    }

    @Test func initIssueTxAndVerifyProofFromTheCommandLine() async throws {
        try await withTemporaryDirectory { dir in
            let d = dir.appendingPathComponent("net").path
            let created = try await XiangChainBinary.run(["init", "--dir", d, "--orgs", "assoc,farmco", "--suite", "p256"])
            #expect(created.status == 0, "\(created.output)")
            #expect(FileManager.default.fileExists(atPath: "\(d)/nodes/1/node.key.pem"))
            #expect(FileManager.default.fileExists(atPath: "\(d)/identities/farmco-admin/cert.pem"))
            let again = try await XiangChainBinary.run(["init", "--dir", d, "--orgs", "x"])
            #expect(again.status != 0 && again.output.contains("already"))

            let issued = try await XiangChainBinary.run([
                "identity", "issue", "--dir", d, "--org", "farmco", "--role", "farm", "--name", "farm-1",
            ])
            #expect(issued.status == 0, "\(issued.output)")
            let key = try String(contentsOfFile: "\(d)/identities/farm-1/key.pem", encoding: .utf8)
            #expect(key.contains("BEGIN PRIVATE KEY"))
            let badRole = try await XiangChainBinary.run([
                "identity", "issue", "--dir", d, "--org", "farmco", "--role", "pirate", "--name", "x",
            ])
            #expect(badRole.status != 0)
            let badOrg = try await XiangChainBinary.run([
                "identity", "issue", "--dir", d, "--org", "nobody", "--role", "farm", "--name", "y",
            ])
            #expect(badOrg.status != 0 && badOrg.output.contains("nobody"))

            // A home that is not a node home is refused with a clear error, not a crash.
            let missing = try await XiangChainBinary.run(["node", "--home", "\(d)/identities/farm-1"])
            #expect(missing.status != 0 && missing.output.contains("config.json"), "\(missing.output)")
        }
    }

    @Test func soloChainServesTheTourEndToEnd() async throws {
        try await withTemporaryDirectory { dir in
            let d = dir.appendingPathComponent("solo")
            _ = try await XiangChainBinary.run(["init", "--dir", d.path, "--orgs", "org0"])
            let port = freeLocalPort()
            let node = try NodeProcess(home: d.appendingPathComponent("nodes/0"), port: port)
            try await node.waitUntilReady()
            let hash = Fixtures.randomHash()
            let tx = try await XiangChainBinary.run([
                "tx", "--identity", d.appendingPathComponent("identities/org0-admin").path, "--contract", "evidence",
                "--method", "put", "--args", #"{"hash":"\#(hash)","kind":"contract","meta":{"title":"lease"}}"#,
                "--node", "http://127.0.0.1:\(port)",
            ])
            #expect(tx.status == 0, "\(tx.output)")
            let result = try JSONParser().parse(Array(tx.output.utf8))
            #expect(result["status"]?.stringValue == "committed")
            let txid = try #require(result["txid"]?.stringValue)

            let dup = try await XiangChainBinary.run([
                "tx", "--identity", d.appendingPathComponent("identities/org0-admin").path, "--contract", "evidence",
                "--method", "put", "--args", #"{"hash":"\#(hash)","kind":"contract"}"#, "--node", "http://127.0.0.1:\(port)",
            ])
            #expect(dup.status == 2 && dup.output.contains("already_exists"))

            let (_, proof) = try await HTTP.get(URL(string: "http://127.0.0.1:\(port)/v1/txs/\(txid)/proof")!)
            let proofFile = dir.appendingPathComponent("proof.json")
            try Data(proof.canonicalBytes).write(to: proofFile)
            let verified = try await XiangChainBinary.run([
                "verify-proof", proofFile.path, "--genesis", d.appendingPathComponent("genesis.json").path,
            ])
            #expect(verified.status == 0 && verified.output.contains("sealed by node0"), "\(verified.output)")

            // A tampered proof is refused.
            var tampered = proof.objectValue!
            tampered["leafIndex"] = .int(1)
            try Data(JSONValue.object(tampered).canonicalBytes).write(to: proofFile)
            let refused = try await XiangChainBinary.run(["verify-proof", proofFile.path])
            #expect(refused.status != 0 && refused.output.contains("proof_invalid"))
            #expect(node.stop(signal: SIGTERM) == 0)
        }
    }
}
