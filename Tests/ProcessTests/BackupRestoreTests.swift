import ChainClient
import ChainCore
import ChainTesting
import Foundation
import Identity
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `xiangchain backup` of a running validator, the loss of its machine, `xiangchain restore` on a
/// new one: it catches up, holds everything acknowledged, and votes again (the network commits
/// with it when another validator is down). Damaged backups are refused.
@Suite(.serialized) struct BackupRestoreTests {
    func cli(_ args: [String]) async throws -> String {
        let r = try await XiangChainBinary.run(args)
        #expect(r.status == 0, "xiangchain \(args.prefix(3).joined(separator: " ")): \(r.output)")
        return r.output
    }

    func waitUntil(_ timeout: Duration, _ condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    @Test func aValidatorIsBackedUpLostAndRestored() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            _ = try await cli([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "backup-test", "--base-port",
                String(base),
            ])
            try quickenConsensus(dir, validators: 4)
            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            var nodes = try (0..<4).map { try NodeProcess(home: homes[$0], port: base + $0) }
            defer { for n in nodes { n.stop(signal: SIGKILL) } }
            for n in nodes { try await n.waitUntilReady() }
            let url = { (k: Int) in "http://127.0.0.1:\(base + k)" }
            let signer = try SigningIdentity(directory: dir.appendingPathComponent("identities/org1-admin"))
            let client = try ChainClient(url(1))
            var acknowledged: [String] = []
            func commit(_ n: Int) async throws {
                for _ in 0..<n {
                    let tx = try signer.transaction(
                        chain: "backup-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
                    let outcome = try await client.submitAndWait(tx, timeout: .seconds(30))
                    #expect(outcome.status == "committed")
                    acknowledged.append(tx.txid)
                }
            }
            try await commit(10)

            // Backed up while it runs.
            let backup = dir.appendingPathComponent("backup-node3")
            let made = try await cli(["backup", "--home", homes[3].path, "--out", backup.path])
            #expect(made.contains("backed up node3"), "\(made)")
            #expect(!FileManager.default.fileExists(atPath: backup.appendingPathComponent("node.log").path))
            let mode =
                try FileManager.default.attributesOfItem(atPath: backup.appendingPathComponent("node.key.pem").path)[
                    .posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(try await cli(["restore", "--check", "--from", backup.path]).contains("is whole"))

            // A damaged copy is refused.
            let damaged = dir.appendingPathComponent("damaged")
            try FileManager.default.copyItem(at: backup, to: damaged)
            let config = damaged.appendingPathComponent("config.json")
            try (try String(contentsOf: config, encoding: .utf8) + " ").write(to: config, atomically: true, encoding: .utf8)
            let refused = try await XiangChainBinary.run(["restore", "--check", "--from", damaged.path])
            #expect(refused.status != 0 && refused.output.contains("malformed") && refused.output.contains("config.json"))
            // A manifest naming a file outside the backup is refused.
            let manifestURL = damaged.appendingPathComponent("backup.json")
            var manifest = try JSONParser().parse(Array(try Data(contentsOf: backup.appendingPathComponent("backup.json"))))
            if case .object(var o) = manifest, case .object(var files) = o["files"] {
                files["../../etc/passwd"] = .string(String(repeating: "0", count: 64))
                o["files"] = .object(files)
                manifest = .object(o)
            }
            try Data(manifest.canonicalBytes).write(to: manifestURL)
            let escaping = try await XiangChainBinary.run(["restore", "--check", "--from", damaged.path])
            #expect(escaping.status != 0 && escaping.output.contains("outside"), "\(escaping.output)")

            // More commits, then node3's machine is lost.
            try await commit(10)
            nodes[3].stop(signal: SIGKILL)
            try FileManager.default.moveItem(at: homes[3], to: dir.appendingPathComponent("lost-node3"))
            try await commit(5)

            // Without peers to fence its votes, restoring a validator is refused.
            let bare = try await XiangChainBinary.run(["restore", "--from", backup.path, "--home", homes[3].path])
            #expect(bare.status != 0 && bare.output.contains("--peer"), "\(bare.output)")
            let restored = try await cli([
                "restore", "--from", backup.path, "--home", homes[3].path, "--peer", url(0), "--peer", url(1),
            ])
            #expect(restored.contains("stays out of rounds up to"), "\(restored)")
            #expect(FileManager.default.fileExists(atPath: homes[3].appendingPathComponent("data/vote-fence.json").path))
            // Restoring over a node is refused.
            let over = try await XiangChainBinary.run([
                "restore", "--from", backup.path, "--home", homes[3].path, "--peer", url(0),
            ])
            #expect(over.status != 0 && over.output.contains("already holds a node"), "\(over.output)")

            // It starts, catches up and holds everything acknowledged.
            nodes[3] = try NodeProcess(home: homes[3], port: base + 3)
            try await nodes[3].waitUntilReady()
            let target = try await nodes[0].client.status()["height"]?.int64Value ?? 0
            let caughtUp = try await waitUntil(.seconds(60)) {
                ((try? await nodes[3].client.status()["height"]?.int64Value) ?? 0) >= target
            }
            #expect(caughtUp, "restored node3 did not catch up:\n\(nodes[3].logTail())")
            let restoredClient = try ChainClient(url(3))
            for txid in acknowledged {
                let tx = try await restoredClient.transaction(txid)
                #expect(tx?["status"]?.stringValue == "committed", "\(txid) missing on the restored node")
            }

            // It votes again: with node0 down, the network commits only with node3's votes.
            nodes[0].stop(signal: SIGKILL)
            let tx = try signer.transaction(
                chain: "backup-test", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
            let outcome = try await client.submitAndWait(tx, timeout: .seconds(60))
            #expect(outcome.status == "committed", "no commit with node0 down and node3 restored:\n\(nodes[3].logTail())")
        }
    }
}
