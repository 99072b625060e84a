import ArgumentParser
import ChainClient
import ChainCore
import Foundation
import Node
import NodeRuntime

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a node home into a new directory while the node runs (consistent database copies, checksums).",
        discussion: """
            The copy holds the node's private key: keep it as the org's CA key is kept. Check one \
            with `xiangchain restore --check --from DIR`; restore it with `xiangchain restore`.
            """)

    @Option(help: "Node home to back up.") var home: String
    @Option(help: "New directory to write the backup to.") var out: String

    func run() throws {
        let m = try NodeBackup.backup(home: URL(fileURLWithPath: home), to: URL(fileURLWithPath: out))
        print("backed up \(m.nodeId) of chain \(m.chainId) at height \(m.height): \(m.files.count) files in \(out)")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a node home from a backup (after checking every file against its checksum).",
        discussion: """
            The node catches up from its peers after it starts. Unless it is its chain's only \
            validator, give the API of running validators with --peer (twice or more is better): \
            the node then sends no proposal, vote or timeout until the network is past the round \
            they are in now, since the lost copy of the node may have voted in any round up to there.
            """)

    @Option(help: "Backup directory (from `xiangchain backup`).") var from: String
    @Option(help: "Node home to create (must not hold a node).") var home: String?
    @Option(help: "API URL of a running validator; repeat for more.") var peer: [String] = []
    @Flag(help: "Only check the backup against its checksums.") var check = false

    func run() async throws {
        let backup = URL(fileURLWithPath: from)
        if check {
            let m = try NodeBackup.verify(backup)
            print("backup of \(m.nodeId) (chain \(m.chainId), height \(m.height)) is whole: \(m.files.count) files match")
            return
        }
        guard let home else { throw ValidationError("give --home (or --check)") }
        var fence: VoteFence?
        for url in peer {
            let status = try await ChainClient(url, timeout: .seconds(10)).status()
            guard let epoch = status["configuration"]?["epoch"]?.int64Value, let round = status["consensus"]?["round"]?.int64Value
            else { throw ChainError(.malformed, "\(url) reports no consensus round: is it a running validator?") }
            let here = VoteFence(epoch: UInt64(epoch), round: UInt64(round))
            if let f = fence, (f.epoch, f.round) >= (here.epoch, here.round) { continue }
            fence = here
        }
        let m = try NodeBackup.restore(from: backup, to: URL(fileURLWithPath: home), fence: fence)
        print(
            "restored \(m.nodeId) of chain \(m.chainId) at height \(m.height) into \(home)"
                + (fence.map { "; it stays out of rounds up to epoch \($0.epoch) round \($0.round)" } ?? ""))
    }
}
