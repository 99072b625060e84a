import Accounts
import ArgumentParser
import ChainCore
import Foundation
import Identity
import Node

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

    func run() throws {
        let homeURL = URL(fileURLWithPath: home)
        let nodeHome = try NodeHome(homeURL)
        guard let caDir = nodeHome.config.accountCA else {
            throw ValidationError("\(home)/config.json has no accountCA: set it to the org CA directory (D/orgs/<org>)")
        }
        guard let r = Role(rawValue: role) else { throw ValidationError("unknown role \(role)") }
        let ca = try CertificateAuthority(directory: URL(fileURLWithPath: caDir))
        let store = try AccountStore(home: homeURL)
        let (account, _) = try store.create(
            NewAccount(username: username, name: name, idNumber: idNumber, phone: phone, role: r, password: password), ca: ca,
            suite: nodeHome.genesis.suite)
        print(account.username)
    }
}
