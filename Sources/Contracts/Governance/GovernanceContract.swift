import ChainCore
import Execution
import Foundation
import Identity

/// On-chain governance of the chain configuration (contract name "governance"): org admins
/// propose changes, admins of the other orgs approve or reject them, and a proposal's changes are
/// applied when the approval policy's threshold is met (`docs/governance.md`).
///
/// State (under `governance/`): `config` (the configuration in force, canonical JSON; absent until
/// the first change: the genesis configuration), `proposal/<id>` (each proposal with its votes
/// and outcome), `epoch/<n>` (each validator-set epoch and the height it starts at), `counter`.
public struct GovernanceContract: Contract {
    /// "governance".
    public let name = "governance"
    /// The genesis configuration.
    public let initial: ChainConfig

    /// Longest proposal description, Unicode code points.
    public static let maxDescription = 2000
    /// Most changes in one proposal.
    public static let maxChanges = 64

    /// Creates the contract over the genesis configuration.
    public init(initial: ChainConfig) { self.initial = initial }

    static let methods: [String: Set<Role>] = [
        "propose": [.admin], "approve": [.admin], "reject": [.admin], "revoke_own": [.admin],
        "register_issuer": [.admin],
    ]

    public func allowedRoles(method: String) -> Set<Role>? { Self.methods[method] }

    public func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        guard let roles = Self.methods[method] else {
            throw ChainError(.unknownMethod, "governance has no method \"\(method)\"")
        }
        try context.requireRole(roles, for: "governance.\(method)")
        var config = try Self.config(context, initial: initial)
        guard config.org(context.caller.org) != nil else {
            throw ChainError(.notAMember, "org \(context.caller.org) is not a member of the chain")
        }
        switch method {
        case "propose": try propose(args, context, &config)
        case "approve": try vote(args, context, &config, approve: true)
        case "reject": try vote(args, context, &config, approve: false)
        case "revoke_own": try revokeOwn(args, context, &config)
        case "register_issuer": try registerIssuer(args, context, &config)
        default: throw ChainError(.unknownMethod, "governance has no method \"\(method)\"")
        }
    }

    // MARK: state

    static func config(_ ctx: ExecutionContext, initial: ChainConfig) throws -> ChainConfig {
        guard let raw = try ctx.get("config") else { return initial }
        return try ChainConfig(canonical: raw)
    }

    /// Stores a new configuration; records a new epoch when the validators changed.
    static func store(_ new: ChainConfig, old: ChainConfig, _ ctx: ExecutionContext, cause: String) {
        ctx.put("config", new.canonicalBytes)
        if new.epoch != old.epoch {
            ctx.putJSON(
                GovernanceKeys.epoch(new.epoch),
                .object([
                    "epoch": .int(Int64(new.epoch)), "firstHeight": .int(Int64(ctx.height + 1)),
                    "changedAtHeight": .int(Int64(ctx.height)), "cause": .string(cause),
                    "validators": .array(
                        new.validators.map {
                            .object([
                                "nodeId": .string($0.nodeId), "org": .string($0.org), "certificate": .string($0.certificate),
                                "p2pAddress": .string($0.p2pAddress),
                            ])
                        }),
                ]))
        }
        ctx.emit(
            "config_changed",
            .object([
                "version": .int(Int64(new.version)), "epoch": .int(Int64(new.epoch)), "cause": .string(cause),
                "hash": .string(new.hash.hex),
            ]))
    }

    static func signer(_ ctx: ExecutionContext) -> JSONValue {
        .object([
            "org": .string(ctx.caller.org), "subject": .string(ctx.caller.subject),
            "cert": .string(ctx.caller.certificateFingerprint), "txid": .string(ctx.txid.hex), "height": .int(Int64(ctx.height)),
            "time": .int(ctx.blockTime),
        ])
    }

    // MARK: proposals

    func propose(_ args: JSONValue, _ ctx: ExecutionContext, _ config: inout ChainConfig) throws {
        let a = try Arguments(args, allowed: ["changes", "description", "lifetimeMs"])
        guard let list = a["changes"]?.arrayValue, (1...Self.maxChanges).contains(list.count) else {
            throw ChainError(.badArgs, "\"changes\" must list 1–\(Self.maxChanges) changes")
        }
        let changes = try list.map { v throws(ChainError) in try GovernanceChange(json: v) }
        let description = try a.string("description", maxLength: Self.maxDescription)
        var lifetime = config.approval.proposalLifetimeMs
        if a["lifetimeMs"] != nil {
            lifetime = try a.int("lifetimeMs", in: 60_000...config.approval.proposalLifetimeMs)
        }
        // Refused now if they could not apply to the configuration as it is.
        _ = try ConfigEditor.apply(changes, to: config, at: ctx.blockTime)
        let n = (try ctx.getJSON("counter")?.int64Value ?? 0) + 1
        ctx.putJSON("counter", .int(n))
        let id = GovernanceKeys.proposalID(n)
        var p = Proposal(
            id: id, description: description, changes: changes, critical: changes.contains(where: \.isCritical),
            proposer: Self.signer(ctx), createdAt: ctx.blockTime, expiresAt: ctx.blockTime + lifetime,
            approvals: [], rejections: [], status: .open, outcome: nil, baseVersion: config.version)
        p.approvals.append(Vote(org: ctx.caller.org, signer: Self.signer(ctx)))
        ctx.emit("proposed", .object(["proposal": .string(id), "critical": .bool(p.critical)]))
        try settle(&p, ctx, &config)
        ctx.putJSON(GovernanceKeys.proposal(id), p.json)
    }

    func vote(_ args: JSONValue, _ ctx: ExecutionContext, _ config: inout ChainConfig, approve: Bool) throws {
        let a = try Arguments(args, allowed: ["proposal"])
        let id = try a.string("proposal", maxLength: 32)
        guard let raw = try ctx.getJSON(GovernanceKeys.proposal(id)), var p = Proposal(json: raw) else {
            throw ChainError(.proposalNotFound, "no proposal \(id)")
        }
        guard p.status == .open else { throw ChainError(.proposalClosed, "proposal \(id) is already \(p.status.rawValue)") }
        guard ctx.blockTime <= p.expiresAt else {
            throw ChainError(.proposalExpired, "proposal \(id) expired at \(p.expiresAt)")
        }
        let org = ctx.caller.org
        guard !p.approvals.contains(where: { $0.org == org }), !p.rejections.contains(where: { $0.org == org }) else {
            throw ChainError(.alreadyVoted, "org \(org) has already voted on proposal \(id)")
        }
        let v = Vote(org: org, signer: Self.signer(ctx))
        if approve { p.approvals.append(v) } else { p.rejections.append(v) }
        ctx.emit(approve ? "approved" : "rejected", .object(["proposal": .string(id), "org": .string(org)]))
        try settle(&p, ctx, &config)
        ctx.putJSON(GovernanceKeys.proposal(id), p.json)
    }

    /// Applies the proposal when its threshold is met among the member orgs now; rejects it when
    /// the votes left cannot reach it. Changes that no longer apply mark it failed.
    func settle(_ p: inout Proposal, _ ctx: ExecutionContext, _ config: inout ChainConfig) throws {
        let members = Set(config.orgs.map(\.name))
        let approvals = p.approvals.filter { members.contains($0.org) }.count
        let rejections = p.rejections.filter { members.contains($0.org) }.count
        if config.approval.passes(approvals: approvals, of: members.count, critical: p.critical) {
            do {
                let new = try ConfigEditor.apply(p.changes, to: config, at: ctx.blockTime)
                Self.store(new, old: config, ctx, cause: p.id)
                config = new
                p.status = .applied
                p.outcome = "applied as configuration version \(new.version)"
            } catch {
                p.status = .failed
                p.outcome = error.message
            }
        } else if !config.approval.passes(approvals: members.count - rejections, of: members.count, critical: p.critical) {
            p.status = .rejected
            p.outcome = "\(rejections) of \(members.count) orgs rejected it"
        }
    }

    // MARK: an org's own business

    /// `revoke_own {certificates: [PEM]}`: an org's admin revokes certificates of its own org at
    /// once (a lost key, a staff member who left, a suspended console account).
    func revokeOwn(_ args: JSONValue, _ ctx: ExecutionContext, _ config: inout ChainConfig) throws {
        let a = try Arguments(args, allowed: ["certificates"])
        guard let list = a["certificates"]?.arrayValue, (1...100).contains(list.count) else {
            throw ChainError(.badArgs, "\"certificates\" must list 1–100 PEM certificates")
        }
        let org = ctx.caller.org
        guard let member = config.org(org) else { throw ChainError(.notAMember, "org \(org) is not a member") }
        let cas = (member.roots + member.issuers.map(\.certificate)).compactMap { try? CertificateInfo(pem: $0) }
        var fingerprints: [String] = []
        for v in list {
            guard let pem = v.stringValue, pem.utf8.count <= 16 * 1024 else {
                throw ChainError(.badArgs, "\"certificates\" must hold PEM strings")
            }
            let cert = try CertificateInfo(pem: pem)
            guard cert.org == org, cas.contains(where: { cert.isIssued(by: $0) }) else {
                throw ChainError(.forbidden, "an org revokes only certificates its own CAs issued")
            }
            guard cert.fingerprint != ctx.caller.certificateFingerprint else {
                throw ChainError(.badArgs, "an admin cannot revoke its own certificate this way")
            }
            fingerprints.append(cert.fingerprint)
        }
        let new = try ConfigEditor.apply([.revoke(fingerprints: fingerprints)], to: config, at: ctx.blockTime)
        Self.store(new, old: config, ctx, cause: "revoke_own by \(org)")
        ctx.emit("revoked", .object(["org": .string(org), "fingerprints": .array(fingerprints.map(JSONValue.string))]))
        config = new
    }

    /// `register_issuer {certificate: PEM, roles: [role]}`: an org's admin registers an
    /// intermediate CA its root issued (e.g. a node's console account CA), limited to `roles`,
    /// which must be roles the org may hold. The org's root key then stays offline.
    func registerIssuer(_ args: JSONValue, _ ctx: ExecutionContext, _ config: inout ChainConfig) throws {
        let a = try Arguments(args, allowed: ["certificate", "roles"])
        let pem = try a.string("certificate", maxLength: 16 * 1024)
        guard let list = a["roles"]?.arrayValue, !list.isEmpty else {
            throw ChainError(.badArgs, "\"roles\" must list the roles the CA may issue")
        }
        var roles: [Role] = []
        for v in list {
            guard let s = v.stringValue, let r = Role(rawValue: s) else {
                throw ChainError(.badArgs, "unknown role \(v.canonicalString)")
            }
            if !roles.contains(r) { roles.append(r) }
        }
        let org = ctx.caller.org
        guard let i = config.orgs.firstIndex(where: { $0.name == org }) else {
            throw ChainError(.notAMember, "org \(org) is not a member")
        }
        if let bad = roles.first(where: { !config.orgs[i].permits($0) }) {
            throw ChainError(.roleNotPermitted, "org \(org) may not hold role \(bad.rawValue)")
        }
        let cert = try CertificateInfo(pem: pem)
        guard cert.hasSoundKey else {
            throw ChainError(
                .changeNotApplicable,
                "the issuer's certificate carries \(CertificateInfo.unsoundKey)"
            )
        }
        let roots = config.orgs[i].roots.compactMap { try? CertificateInfo(pem: $0) }
        guard cert.isCA, cert.org == org, roots.contains(where: { cert.isIssued(by: $0) }), cert.hasKey(of: config.suite)
        else {
            throw ChainError(.changeNotApplicable, "the issuer must be a CA certificate of \(org) issued by one of its roots")
        }
        guard cert.notAfter.timeIntervalSince1970 * 1000 > Double(ctx.blockTime) else {
            throw ChainError(.changeNotApplicable, "the issuer's certificate has expired")
        }
        var new = config
        new.orgs[i].issuers.removeAll { (try? CertificateInfo(pem: $0.certificate))?.fingerprint == cert.fingerprint }
        new.orgs[i].issuers.append(ChainConfig.Issuer(certificate: pem, roles: roles.sorted { $0.rawValue < $1.rawValue }))
        new.version += 1
        Self.store(new, old: config, ctx, cause: "register_issuer by \(org)")
        config = new
    }
}

/// State keys of the governance contract (relative to `governance/`).
public enum GovernanceKeys {
    /// `P-000001`, …
    public static func proposalID(_ n: Int64) -> String {
        "P-" + String(repeating: "0", count: max(0, 6 - String(n).count)) + String(n)
    }
    /// A proposal's record.
    public static func proposal(_ id: String) -> String { "proposal/\(id)" }
    /// Prefix of every proposal.
    public static let proposalPrefix = "proposal/"
    /// An epoch's record.
    public static func epoch(_ n: UInt64) -> String {
        "epoch/" + String(repeating: "0", count: max(0, 8 - String(n).count)) + String(n)
    }
    /// Prefix of every epoch.
    public static let epochPrefix = "epoch/"
}
