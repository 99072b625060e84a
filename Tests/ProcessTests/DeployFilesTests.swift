import ChainClient
import ChainCore
import ChainTesting
import Foundation
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The systemd units of `deploy/` as docs/deploy.md installs them: they pass `systemd-analyze
/// verify`, and their command lines, run as systemd would run them (paths moved into a temporary
/// directory), start a node, back it up while it runs and stop it cleanly.
@Suite(.serialized) struct DeployFilesTests {
    static var root: URL { XiangChainBinary.packageRoot }

    /// A unit file with the install paths moved under `dir` and the instance `%i` filled in.
    static func unit(_ name: String, instance: String, dir: URL) throws -> String {
        try String(contentsOf: root.appendingPathComponent("deploy/\(name)"), encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/xiangchain", with: XiangChainBinary.url.path)
            .replacingOccurrences(of: "/var/lib/xiangchain", with: dir.appendingPathComponent("lib").path)
            .replacingOccurrences(of: "/var/backups/xiangchain", with: dir.appendingPathComponent("backups").path)
            .replacingOccurrences(of: "%i", with: instance)
    }

    /// The values of `key=` lines, with systemd's `%%` unescaped.
    static func lines(_ key: String, in unit: String) -> [String] {
        unit.split(separator: "\n").compactMap { line in
            line.hasPrefix(key + "=") ? String(line.dropFirst(key.count + 1)).replacingOccurrences(of: "%%", with: "%") : nil
        }
    }

    /// Splits a command line as systemd does for these units (words, single-quoted strings).
    static func argv(_ line: String) -> [String] {
        var out: [String] = []
        var word = ""
        var quoted = false
        var started = false
        for c in line {
            if c == "'" {
                quoted.toggle()
                started = true
            } else if c == " ", !quoted {
                if started { out.append(word) }
                word = ""
                started = false
            } else {
                word.append(c)
                started = true
            }
        }
        if started { out.append(word) }
        return out
    }

    /// `deploy/prometheus/`: the scrape config and alert rules pass `promtool check`, the rules'
    /// own unit tests pass `promtool test rules`, and every node metric the rules name is one the
    /// node exports (its name appears in the sources that record it).
    @Test func thePrometheusConfigAndAlertRulesCheck() async throws {
        try await withTemporaryDirectory { dir in
            let prom = Self.root.appendingPathComponent("deploy/prometheus")
            let rules = try String(contentsOf: prom.appendingPathComponent("xiangchain-alerts.yml"), encoding: .utf8)
            let sources = try ["Sources/Node/NodeMetrics.swift", "Sources/API/Observability.swift"].map {
                try String(contentsOf: Self.root.appendingPathComponent($0), encoding: .utf8)
            }.joined()
            let named = Set(
                rules.matches(of: /xiangchain_[a-z_]+/).map { String($0.output) }.filter { $0 != "xiangchain_" })
            #expect(named.count >= 8, "\(named.sorted())")
            for name in named {
                // A histogram's series are its name with `_bucket`, `_sum` or `_count`.
                let family = name.replacing(/_(bucket|sum|count)$/, with: "")
                #expect(
                    sources.contains("\"\(name)\"") || (family != name && sources.contains("\"\(family)\"")),
                    "the rules use \(name), which the node does not export")
            }
            for alert in [
                "XiangChainStalled", "XiangChainNodeDown", "XiangChainValidatorUnreachable", "XiangChainCertificateExpiring",
                "XiangChainMempoolFull", "XiangChainSlowCommits",
            ] {
                #expect(rules.contains("alert: \(alert)\n"), "\(alert)")
            }
            // The config names the token file and the rule file as installed; here, copies.
            let token = dir.appendingPathComponent("token")
            try "0123456789abcdef-token".write(to: token, atomically: true, encoding: .utf8)
            let config = try String(contentsOf: prom.appendingPathComponent("prometheus.yml"), encoding: .utf8)
                .replacingOccurrences(of: "/etc/prometheus/xiangchain-metrics-token", with: token.path)
            #expect(config != (try String(contentsOf: prom.appendingPathComponent("prometheus.yml"), encoding: .utf8)))
            try config.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
            try rules.write(to: dir.appendingPathComponent("xiangchain-alerts.yml"), atomically: true, encoding: .utf8)
            guard
                let checkConfig = try await runTool(
                    "promtool", ["check", "config", dir.appendingPathComponent("prometheus.yml").path])
            else {
                print("promtool is not installed (scripts/install-deps installs prometheus): files not checked by it")
                return
            }
            #expect(checkConfig.status == 0 && checkConfig.output.contains("SUCCESS"), "\(checkConfig.output)")
            let checkRules = try await runTool(
                "promtool", ["check", "rules", prom.appendingPathComponent("xiangchain-alerts.yml").path])
            #expect(checkRules?.status == 0 && checkRules?.output.contains("SUCCESS") == true, "\(checkRules?.output ?? "")")
            let unitTests = try await runTool(
                "promtool", ["test", "rules", prom.appendingPathComponent("xiangchain-alerts.test.yml").path])
            #expect(unitTests?.status == 0 && unitTests?.output.contains("SUCCESS") == true, "\(unitTests?.output ?? "")")
        }
    }

    @Test func theUnitsVerifyAndTheirCommandsRunANodeAndBackItUp() async throws {
        try await withTemporaryDirectory { dir in
            let units = ["xiangchain-node@.service", "xiangchain-backup@.service", "xiangchain-backup@.timer"]
            let unitDir = dir.appendingPathComponent("units")
            try FileManager.default.createDirectory(at: unitDir, withIntermediateDirectories: true)
            for name in units {
                try Self.unit(name, instance: "node0", dir: dir).write(
                    to: unitDir.appendingPathComponent(name.replacingOccurrences(of: "@.", with: "@node0.")), atomically: true,
                    encoding: .utf8)
            }
            if let verify = try await runTool(
                "systemd-analyze",
                ["verify"] + units.map { unitDir.appendingPathComponent($0.replacingOccurrences(of: "@.", with: "@node0.")).path }
            ) {
                #expect(verify.status == 0 && !verify.output.contains("rror"), "systemd-analyze verify: \(verify.output)")
            } else {
                print("systemd-analyze is not installed: unit syntax not checked")
            }

            // The org's ceremony, its genesis, the node home where the unit expects it.
            let port = freePortBlock(count: 2)
            let org = dir.appendingPathComponent("org0")
            for args in [
                [
                    "org", "init", "--org", "org0", "--dir", org.path, "--roles", "association",
                    "--node", "node0,127.0.0.1:\(port + 1),http://127.0.0.1:\(port),listen=127.0.0.1",
                ],
                [
                    "genesis", "build", "--card", org.appendingPathComponent("card.json").path, "--chain-id", "deploy-test",
                    "--out", dir.appendingPathComponent("genesis.json").path,
                ],
                ["org", "install", "--dir", org.path, "--genesis", dir.appendingPathComponent("genesis.json").path],
            ] {
                let r = try await XiangChainBinary.run(args)
                #expect(r.status == 0, "\(args.prefix(2)): \(r.output)")
            }
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("lib"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: dir.appendingPathComponent("lib/node0"), withDestinationURL: org.appendingPathComponent("nodes/node0"))

            // ExecStart of the node unit, as systemd runs it.
            let nodeUnit = try Self.unit("xiangchain-node@.service", instance: "node0", dir: dir)
            let start = Self.argv(try #require(Self.lines("ExecStart", in: nodeUnit).first))
            #expect(Self.lines("KillSignal", in: nodeUnit) == ["SIGTERM"])
            // The nice limit lets the node lower its consensus thread to the default value.
            #expect(Self.lines("LimitNICE", in: nodeUnit) == ["\(NodeConfig(nodeId: "n").consensusThreadNice)"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: start[0])
            process.arguments = Array(start.dropFirst())
            let log = dir.appendingPathComponent("journal.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let client = try ChainClient("http://127.0.0.1:\(port)")
            try await client.waitUntilAnswering(timeout: .seconds(60))

            // The backup unit's commands while the node runs.
            let backupUnit = try Self.unit("xiangchain-backup@.service", instance: "node0", dir: dir)
            for key in ["ExecStartPre", "ExecStart", "ExecStartPost"] {
                for line in Self.lines(key, in: backupUnit) {
                    let words = Self.argv(line)
                    let r = try #require(try await runTool(words[0], Array(words.dropFirst())), "\(words[0]) is missing")
                    #expect(r.status == 0, "\(key) \(line): \(r.output)")
                }
            }
            let made = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("backups/node0").path)
            #expect(made.count == 1, "\(made)")
            let check = try await XiangChainBinary.run([
                "restore", "--check", "--from", dir.appendingPathComponent("backups/node0/\(made.first ?? "")").path,
            ])
            #expect(check.status == 0 && check.output.contains("is whole"), "\(check.output)")

            // Everything the node and the tool wrote is private: the databases with their WAL and
            // shared-memory files, the data directory, the keys.
            let home = org.appendingPathComponent("nodes/node0")
            func mode(_ url: URL) throws -> Int {
                (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int ?? -1) & 0o777
            }
            #expect(try mode(home.appendingPathComponent("data")) == 0o700)
            let dataFiles = try FileManager.default.contentsOfDirectory(atPath: home.appendingPathComponent("data").path)
            #expect(dataFiles.contains { $0.hasSuffix("-wal") }, "\(dataFiles)")
            for name in dataFiles {
                #expect(try mode(home.appendingPathComponent("data/\(name)")) == 0o600, "data/\(name)")
            }
            for name in ["node.key.pem", "config.json", "phone-salt"]
            where FileManager.default.fileExists(
                atPath: home.appendingPathComponent(name).path)
            {
                #expect(try mode(home.appendingPathComponent(name)) == 0o600, "\(name)")
            }
            #expect(try mode(org.appendingPathComponent("ca/ca.key.pem")) == 0o600)

            // Stopped as systemd stops it: SIGTERM, clean exit well within TimeoutStopSec.
            kill(process.processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(30)
            while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning && process.terminationStatus == 0)
        }
    }
}
