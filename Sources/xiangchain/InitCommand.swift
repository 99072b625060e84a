import ArgumentParser
import ChainCore
import Demo
import Foundation
import Identity
import Node

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a consortium: org CAs, one validator per org, genesis, node configs and an admin identity per org.")

    @Option(help: "Directory to create.") var dir: String
    @Option(help: "Comma-separated organisation names, one validator each.") var orgs: String = "org0"
    @Option(help: "Crypto suite: ed25519, p256 or sm2 (SM2/SM3, GB/T 32918 and 32905).") var suite: CryptoSuite = .ed25519
    @Option(help: "Chain id (transactions name it).") var chainId: String = "xiangchain-local"
    @Option(help: "API ports are P+k and p2p ports P+1000+k (default: API 8080+k, p2p 7000+k).") var basePort: Int?
    @Option(help: "Only the first K orgs run a validator; the others are member orgs (CA and accounts, no node).")
    var validators: Int?
    @Option(help: "Observer nodes to create (observer k: API on the first API port + 100 + k).") var observers: Int = 0
    @Option(
        help:
            "ORG=role,role: the roles an org may hold (repeat per org). Default: the first org every role, the others farm, merchant, logistics, consumer and node."
    )
    var roles: [String] = []
    @Flag(help: "Give the orgs the roles of the crab demo's cast (`xiangchain demo`); needs at least 4 orgs.") var demoRoles =
        false

    func validate() throws {
        guard (0...16).contains(observers) else { throw ValidationError("--observers must be 0–16") }
    }

    func run() throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        let names = orgs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var policy: [String: [Role]]?
        if demoRoles {
            policy = try DemoRunner.rolePolicy(orgs: names, validators: validators ?? names.count)
        }
        for spec in roles {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, names.contains(String(parts[0])) else {
                throw ValidationError("--roles takes ORG=role,role for an org of --orgs")
            }
            let list = try parts[1].split(separator: ",").map { r in
                guard let role = Role(rawValue: String(r)) else { throw ValidationError("unknown role \(r)") }
                return role
            }
            if policy == nil { policy = NetworkLayout.defaultRoles(for: names) }
            policy?[String(parts[0])] = list
        }
        let genesis = try layout.create(
            orgs: names, suite: suite, chainId: chainId, basePort: basePort, validators: validators, roles: policy)
        print("created chain \(genesis.chainId) (\(genesis.suite.rawValue)) in \(dir)")
        for (k, v) in genesis.validators.enumerated() {
            print("  validator \(v.nodeId) (\(v.org)): home \(layout.nodeHome(k).path)")
        }
        for k in 0..<observers {
            let home = try layout.addObserver(org: names[k % names.count])
            print("  observer observer\(k) (\(names[k % names.count])): home \(home.path)")
        }
        for org in names { print("  identity \(org)-admin: \(layout.identityDir("\(org)-admin").path)") }
    }
}

extension CryptoSuite: ExpressibleByArgument {}
extension Role: ExpressibleByArgument {}

struct IdentityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity", abstract: "Manage identities (keys and certificates).", subcommands: [Issue.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Issue a key and certificate under an org's CA: into D/identities/<name> of a local network, or with --ca into --out."
        )

        @Option(help: "Consortium directory made by init.") var dir: String?
        @Option(help: "Organisation whose CA signs (with --dir).") var org: String?
        @Option(help: "A CA directory (ca.key.pem, ca.cert.pem), e.g. D/ca or D/console-ca of `org init`.") var ca: String?
        @Option(help: "With --ca: the directory to write key.pem and cert.pem to.") var out: String?
        @Option(help: "Role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: Role
        @Option(help: "Account name (certificate CN).") var name: String
        @Option(help: "Validity in days.") var days: Int = 730

        func run() throws {
            if let ca {
                guard let out else { throw ValidationError("--ca needs --out") }
                let authority = try CertificateAuthority(directory: URL(fileURLWithPath: ca))
                // The org's card, when the CA is in an `org init` directory, says which roles it asked for.
                let card = URL(fileURLWithPath: ca).deletingLastPathComponent().appendingPathComponent("card.json")
                if let c = try? OrgCard.load(from: card), role != .admin, !c.roles.contains(role) {
                    throw ChainError(
                        .roleNotPermitted,
                        "org \(c.org) asked for roles \(c.roles.map(\.rawValue).joined(separator: ", ")), not \(role.rawValue): the chain would refuse it"
                    )
                }
                let key = SigningKey.generate(authority.key.suite)
                let cert = try authority.issue(role: role, name: name, subjectKey: key, validity: Double(days) * 86400)
                let dirURL = URL(fileURLWithPath: out)
                try SecretFile.createPrivateDirectory(dirURL)
                try SecretFile.write(KeyPEM.encode(key), to: dirURL.appendingPathComponent("key.pem"))
                try KeyPEM.certificatePEM(fromDER: cert.derBytes()).write(
                    to: dirURL.appendingPathComponent("cert.pem"), atomically: true, encoding: .utf8)
                print("issued \(role.rawValue) identity \(name) of \(authority.org): \(out)/key.pem, cert.pem")
                return
            }
            guard let dir, let org else { throw ValidationError("give --dir and --org, or --ca and --out") }
            let path = try NetworkLayout(root: URL(fileURLWithPath: dir)).issueIdentity(
                org: org, role: role, name: name, validityDays: days)
            print("issued \(role.rawValue) identity \(name) of \(org): \(path.path)/key.pem, cert.pem")
        }
    }
}

struct ObserverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observer", abstract: "Manage observer nodes (non-voting nodes that follow the chain).",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an observer run by ORG in D/observers/<k>; run it with `xiangchain node --home`.")

        @Option(help: "Consortium directory made by init.") var dir: String
        @Option(help: "Organisation that runs the observer (its CA signs the node certificate).") var org: String
        @Option(help: "API port (default: the first validator's API port + 100 + k).") var apiPort: Int?

        func run() throws {
            let home = try NetworkLayout(root: URL(fileURLWithPath: dir)).addObserver(org: org, apiPort: apiPort)
            print("added observer of \(org): home \(home.path)")
        }
    }
}
