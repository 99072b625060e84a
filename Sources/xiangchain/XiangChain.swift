import ArgumentParser

/// The XiangChain command-line tool.
@main
struct XiangChain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xiangchain",
        abstract: "XiangChain: a consortium blockchain for traceability, notarisation and supervision.",
        subcommands: [
            ObserverCommand.self,
            InitCommand.self, IdentityCommand.self, SoloCommand.self, NodeCommand.self, DevnetCommand.self, DemoCommand.self,
            TxCommand.self,
            VerifyProofCommand.self,
        ]
    )
}
