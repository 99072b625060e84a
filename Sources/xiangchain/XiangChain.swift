import ArgumentParser

/// The XiangChain command-line tool.
@main
struct XiangChain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xiangchain",
        abstract: "XiangChain: a consortium blockchain for traceability, notarisation and supervision.",
        subcommands: [
            InitCommand.self, IdentityCommand.self, ObserverCommand.self, SoloCommand.self, NodeCommand.self, DevnetCommand.self,
            DemoCommand.self, TxCommand.self, VerifyProofCommand.self, CodesCommand.self, BenchCommand.self, AccountCommand.self,
            GovCommand.self, OrgCommand.self, GenesisCommand.self, ContractCommand.self,
        ]
    )
}
