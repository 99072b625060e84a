import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// The XiangChain command-line tool.
@main
struct XiangChain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xiangchain",
        abstract: "XiangChain: a consortium blockchain for traceability, notarisation and supervision.",
        subcommands: [
            InitCommand.self, IdentityCommand.self, ObserverCommand.self, SoloCommand.self, NodeCommand.self, DevnetCommand.self,
            DemoCommand.self, TxCommand.self, VerifyProofCommand.self, CodesCommand.self, BenchCommand.self, AccountCommand.self,
            GovCommand.self, OrgCommand.self, GenesisCommand.self, BackupCommand.self, RestoreCommand.self,
            ContractCommand.self, BenchSnapshotCommand.self, BenchPipelineCommand.self,
        ]
    )

    /// Files and directories the tool creates (keys, homes, databases, backups) are created
    /// private (0600 and 0700), never world-readable for a moment before a chmod.
    static func main() async {
        umask(0o077)
        await main(nil)
    }
}
