import Accounts
import ArgumentParser
import ChainCore
import Foundation
import Identity
import Node
import NodeRuntime

/// `xiangchain account`: console accounts of a node, offline.
struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Manage a node's console accounts offline.",
        subcommands: [AccountCreateCommand.self])
}

/// `xiangchain account create`: bootstraps an org's first admin (or demo accounts) in a node home.
struct AccountCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract:
            "Create a console account in a node home (stop the node first), with a key and certificate from its account CA.",
        discussion: """
            The real-name evidence (evidence.put of the salted hash) needs a running node: it is not \
            submitted here; the account's real-name hash stays in the accounts database.
            """)

    @Option(help: "Node home (D/nodes/<k> or D/observers/<k>).") var home: String
    @Option(help: "Username, [a-z0-9_-]{3,32}.") var username: String
    @Option(help: "Role: admin, association, farm, merchant, lab, logistics or regulator.") var role: String
    @Option(help: "Real name.") var name: String
    @Option(help: "ID number.") var idNumber: String
    @Option(help: "Phone, 5–20 digits.") var phone: String
    @Option(help: "Password, at least 10 characters.") var password: String
    @Option(help: "Org of the account when the node hosts several (default: the node's own accountCA).") var org: String?

    func run() throws {
        guard let r = Role(rawValue: role) else { throw ValidationError("unknown role \(role)") }
        let account = try HomeAccounts.create(
            home: URL(fileURLWithPath: home), org: org,
            NewAccount(username: username, name: name, idNumber: idNumber, phone: phone, role: r, password: password))
        print(account.username)
    }
}
