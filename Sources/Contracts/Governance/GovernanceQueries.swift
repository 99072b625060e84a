import ChainCore
import Execution
import Identity

/// Reads of committed governance state for the API, the CLI and the console.
public struct GovernanceQueries: Sendable {
    /// Committed state.
    public let state: any StateScanner
    /// The genesis configuration.
    public let initial: ChainConfig

    /// Creates the queries.
    public init(state: any StateScanner, initial: ChainConfig) {
        self.state = state
        self.initial = initial
    }

    /// The configuration in force.
    public func config() throws -> ChainConfig {
        guard let raw = try state.read(ConfigSource.stateKey) else { return initial }
        return try ChainConfig(canonical: raw)
    }

    /// One proposal, with its status at `now`.
    public func proposal(_ id: String, now: Int64) throws -> JSONValue? {
        guard let raw = try state.read("governance/" + GovernanceKeys.proposal(id)),
            let p = Proposal(json: try JSONParser().parse(raw))
        else { return nil }
        return Self.view(p, now: now, config: try config())
    }

    /// Proposals, newest first, at most `limit`; only those open at `now` when `openOnly`.
    public func proposals(openOnly: Bool, now: Int64, limit: Int) throws -> [JSONValue] {
        var out: [Proposal] = []
        var after: String?
        while true {
            let page = try state.scan(prefix: "governance/" + GovernanceKeys.proposalPrefix, after: after, limit: 500)
            for e in page {
                if let p = Proposal(json: try JSONParser().parse(e.value)) { out.append(p) }
            }
            guard page.count == 500, let last = page.last else { break }
            after = last.key
        }
        let list = out.reversed().filter { !openOnly || $0.status(at: now) == "open" }
        let config = try config()
        return list.prefix(limit).map { Self.view($0, now: now, config: config) }
    }

    /// The epochs after the genesis, oldest first.
    public func epochs() throws -> [JSONValue] {
        try state.scan(prefix: "governance/" + GovernanceKeys.epochPrefix, after: nil, limit: 10_000).map {
            try JSONParser().parse($0.value)
        }
    }

    /// A proposal for readers: its status now, its changes in words, and where its votes stand
    /// among the member orgs of `config` (`needed`: the approvals its threshold asks for now).
    static func view(_ p: Proposal, now: Int64, config: ChainConfig) -> JSONValue {
        var o = p.json.objectValue ?? [:]
        o["status"] = .string(p.status(at: now))
        o["summary"] = .array(p.changes.map { .string(GovernanceText.describe($0)) })
        let members = Set(config.orgs.map(\.name))
        let needed = (0...members.count).first { config.approval.passes(approvals: $0, of: members.count, critical: p.critical) }
        o["tally"] = .object([
            "approvals": .int(p.approvals.filter { members.contains($0.org) }.count),
            "rejections": .int(p.rejections.filter { members.contains($0.org) }.count),
            "orgs": .int(members.count), "needed": .int(needed ?? members.count),
        ])
        return .object(o)
    }
}

/// Changes in plain words, for people deciding on them.
public enum GovernanceText {
    /// One change in a sentence.
    public static func describe(_ change: GovernanceChange) -> String {
        switch change {
        case .addOrg(let name, let ca, let roles, _):
            let fp = (try? CertificateInfo(pem: ca).fingerprint.prefix(16)).map(String.init) ?? "?"
            return "admit org \(name) (CA \(fp)…) with roles \(roles.map(\.rawValue).joined(separator: ", "))"
        case .removeOrg(let name): return "remove org \(name): its certificates no longer sign"
        case .setRoles(let org, let roles):
            return "org \(org) may hold roles \(roles.isEmpty ? "none but admin" : roles.map(\.rawValue).joined(separator: ", "))"
        case .addCA(let org, _): return "add a CA certificate to org \(org)"
        case .removeCA(let org, let fp): return "remove CA \(fp.prefix(16))… of org \(org)"
        case .addValidator(let id, let org, _, let address): return "add validator \(id) of \(org) at \(address)"
        case .removeValidator(let id): return "remove validator \(id)"
        case .updateValidator(let id, let cert, let address):
            return "validator \(id): "
                + [cert.map { _ in "new node certificate" }, address.map { "address \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
        case .setParameters(let p):
            var parts: [String] = []
            if let v = p.maxBlockTxs { parts.append("at most \(v) transactions per block") }
            if let v = p.maxBlockBytes { parts.append("blocks of at most \(v) bytes") }
            if let v = p.roundTimeoutMs { parts.append("round timeout \(v) ms") }
            if let v = p.mempoolCapacity { parts.append("mempool of \(v)") }
            if let v = p.crabProducts { parts.append("crab products \(v.joined(separator: ", "))") }
            return "set " + parts.joined(separator: "; ")
        case .setApprovalPolicy(let p):
            return
                "ordinary changes need more than \(p.ordinaryNumerator)/\(p.ordinaryDenominator) of the orgs, critical ones at least \(p.criticalNumerator)/\(p.criticalDenominator); proposals stay open \(p.proposalLifetimeMs / 3_600_000) h"
        case .revoke(let fps): return "revoke \(fps.count) certificate\(fps.count == 1 ? "" : "s")"
        }
    }
}
