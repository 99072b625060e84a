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
    @Option(help: "Org of the account when the node hosts several (default: the node's own accountCA).") var org: String?

    func run() throws {
        guard let r = Role(rawValue: role) else { throw ValidationError("unknown role \(role)") }
        let account = try Self.create(
            home: URL(fileURLWithPath: home), org: org,
            NewAccount(username: username, name: name, idNumber: idNumber, phone: phone, role: r, password: password))
        print(account.username)
    }

    /// Creates an account of `org` (default: the node's own org) in a node home, with a
    /// certificate from that org's CA as listed in the node's config.
    static func create(home: URL, org: String?, _ new: NewAccount) throws -> Account {
        let nodeHome = try NodeHome(home)
        let dirs = (nodeHome.config.accountCA.map { [$0] } ?? []) + nodeHome.config.hostedAccountCAs
        let cas = try dirs.map { try CertificateAuthority(directory: URL(fileURLWithPath: $0)) }
        guard let ca = org.map({ o in cas.first { $0.org == o } }) ?? cas.first else {
            throw ValidationError(
                "\(home.path)/config.json lists no account CA\(org.map { " of org \($0)" } ?? "") (accountCA, hostedAccountCAs)")
        }
        let store = try AccountStore(home: home)
        return try store.create(new, ca: ca, suite: nodeHome.genesis.suite).0
    }
}
