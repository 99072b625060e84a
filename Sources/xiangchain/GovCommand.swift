import ArgumentParser
import ChainClient
import ChainCore
import Foundation
import GovernanceContract
import Identity
import Node

/// `xiangchain gov`: the chain's governance from the command line (`docs/governance.md`).
struct GovCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gov",
        abstract: "Propose, approve and reject changes of the chain configuration; list and show proposals.",
        subcommands: [
            GovProposeCommand.self, GovVoteCommand.self, GovRejectCommand.self, GovListCommand.self, GovShowCommand.self,
            GovConfigCommand.self, GovRevokeOwnCommand.self, GovRegisterIssuerCommand.self,
        ])
}

/// Where and as whom a governance transaction goes.
struct GovSigner: ParsableArguments {
    @Option(help: "Identity directory of an org admin (key.pem, cert.pem).") var identity: String
    @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"

    /// Signs `governance.method(args)`, submits it, waits for the commit and prints the outcome.
    func submit(_ method: String, _ args: JSONValue) async throws -> SubmitOutcome {
        let signer = try SigningIdentity(directory: URL(fileURLWithPath: identity))
        let client = try ChainClient(node)
        let tx = try signer.transaction(chain: try await client.chainId(), contract: "governance", method: method, args: args)
        let outcome = try await client.submitAndWait(tx)
        if let e = outcome.error {
            print("refused on chain (tx \(tx.txid), block \(outcome.height ?? 0)): \(e.code.rawValue): \(e.message)")
            throw ExitCode(2)
        }
        print("committed: tx \(tx.txid) in block \(outcome.height ?? 0)")
        return outcome
    }
}

struct GovProposeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "Propose changes; the proposer's org approves at once, the others vote with `gov approve`.",
        discussion: """
            Changes are given as options (several may be combined, applied in order) or as JSON with --change \
            (the change types of docs/governance.md).
            """)

    @OptionGroup var signer: GovSigner
    @Option(help: "What the proposal is for, in words.") var description: String
    @Option(help: "Admit the org of this card (from `org init`), with the roles it asks for.") var addOrg: [String] = []
    @Flag(help: "With --add-org: also make its validator nodes validators.") var withValidators = false
    @Option(help: "Remove an org (its validators must be removed first).") var removeOrg: [String] = []
    @Option(help: "ORG=role,role: the roles an org may hold.") var setRoles: [String] = []
    @Option(help: "Remove a validator.") var removeValidator: [String] = []
    @Option(help: "Revoke a certificate: its SHA-256 fingerprint (hex) or a PEM file.") var revoke: [String] = []
    @Option(help: "A change as JSON, e.g. {\"type\":\"set_parameters\",\"mempoolCapacity\":20000}.") var change: [String] = []
    @Option(help: "Hours the proposal stays open (at most the policy's lifetime).") var lifetimeHours: Int?

    func run() async throws {
        let changes = try proposedChanges()
        for c in changes { print("  - \(GovernanceText.describe(c))") }
        var args: [String: JSONValue] = [
            "changes": .array(changes.map(\.json)), "description": .string(description),
        ]
        if let lifetimeHours { args["lifetimeMs"] = .int(Int64(lifetimeHours) * 3_600_000) }
        _ = try await signer.submit("propose", .object(args))
    }

    /// The changes the options name. Kept out of the async `run`: with its throwing closures
    /// inline, Swift 6.3.1's release build crashed (LLVM's coroutine splitting, signal 11).
    func proposedChanges() throws -> [GovernanceChange] {
        var changes: [GovernanceChange] = []
        for path in addOrg {
            let card = try OrgCard.load(from: URL(fileURLWithPath: path))
            changes.append(
                .addOrg(
                    name: card.org, caCertificate: card.caCertificate, roles: card.roles,
                    apiURL: card.nodes.first?.apiURL))
            if withValidators {
                for n in card.nodes where n.validator {
                    changes.append(
                        .addValidator(nodeId: n.nodeId, org: card.org, certificate: n.certificate, p2pAddress: n.p2pAddress))
                }
            }
        }
        for org in removeOrg { changes.append(.removeOrg(name: org)) }
        for spec in setRoles {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--set-roles takes ORG=role,role") }
            let roles = try parts[1].split(separator: ",").map { r in
                guard let role = Role(rawValue: String(r)) else { throw ValidationError("unknown role \(r)") }
                return role
            }
            changes.append(.setRoles(org: String(parts[0]), roles: roles))
        }
        for id in removeValidator { changes.append(.removeValidator(nodeId: id)) }
        if !revoke.isEmpty {
            changes.append(
                .revoke(
                    fingerprints: try revoke.map { r in
                        if Hex.isLowercase(r, byteCount: 32) { return r }
                        return try CertificateInfo(pem: String(contentsOfFile: r, encoding: .utf8)).fingerprint
                    }))
        }
        for json in change { changes.append(try GovernanceChange(json: try JSONParser().parse(Array(json.utf8)))) }
        guard !changes.isEmpty else { throw ValidationError("give at least one change") }
        return changes
    }
}

struct GovVoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a proposal as your org.")
    @OptionGroup var signer: GovSigner
    @Argument(help: "Proposal id, e.g. P-000001.") var proposal: String

    func run() async throws { _ = try await signer.submit("approve", .object(["proposal": .string(proposal)])) }
}

struct GovRejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reject", abstract: "Reject a proposal as your org.")
    @OptionGroup var signer: GovSigner
    @Argument(help: "Proposal id, e.g. P-000001.") var proposal: String

    func run() async throws { _ = try await signer.submit("reject", .object(["proposal": .string(proposal)])) }
}

struct GovListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List proposals, newest first.")
    @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"
    @Flag(help: "Only open proposals.") var open = false

    func run() async throws {
        let list = try await ChainClient(node).get("/v1/governance/proposals?open=\(open)")["proposals"]?.arrayValue ?? []
        for p in list {
            let approvals = (p["approvals"]?.arrayValue ?? []).compactMap { $0["org"]?.stringValue }
            print(
                "\(p["id"]?.stringValue ?? "?")  \(p["status"]?.stringValue ?? "?")  approved by \(approvals.joined(separator: ", "))  — \(p["description"]?.stringValue ?? "")"
            )
            for line in p["summary"]?.arrayValue ?? [] { print("    - \(line.stringValue ?? "")") }
        }
        if list.isEmpty { print("no proposals") }
    }
}

struct GovShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one proposal as JSON.")
    @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"
    @Argument(help: "Proposal id.") var proposal: String

    func run() async throws {
        print(try await ChainClient(node).get("/v1/governance/proposals/\(proposal)").prettyString)
    }
}

struct GovConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the chain configuration in force, with its warnings.")
    @Option(help: "Node API base URL.") var node: String = "http://127.0.0.1:8080"

    func run() async throws { print(try await ChainClient(node).get("/v1/governance/config").prettyString) }
}

struct GovRevokeOwnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke-own", abstract: "Revoke certificates of your own org at once (no approvals needed).")
    @OptionGroup var signer: GovSigner
    @Argument(help: "PEM files of the certificates to revoke.") var certificates: [String]

    func run() async throws {
        let pems = try certificates.map { JSONValue.string(try String(contentsOfFile: $0, encoding: .utf8)) }
        _ = try await signer.submit("revoke_own", .object(["certificates": .array(pems)]))
    }
}

struct GovRegisterIssuerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register-issuer",
        abstract: "Register an intermediate CA of your org (issued by its root), limited to some of its roles.")
    @OptionGroup var signer: GovSigner
    @Option(help: "The intermediate CA certificate, PEM file.") var certificate: String
    @Option(help: "Roles it may issue, comma separated.") var roles: String

    func run() async throws {
        let pem = try String(contentsOfFile: certificate, encoding: .utf8)
        let list = roles.split(separator: ",").map { JSONValue.string(String($0)) }
        _ = try await signer.submit("register_issuer", .object(["certificate": .string(pem), "roles": .array(list)]))
    }
}

extension JSONValue {
    /// Indented JSON for people (keys sorted).
    var prettyString: String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(canonicalBytes), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return canonicalString }
        return String(decoding: data, as: UTF8.self)
    }
}
