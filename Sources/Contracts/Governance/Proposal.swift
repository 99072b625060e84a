import ChainCore

/// A governance proposal as stored: its changes, votes and outcome.
public struct Proposal: Sendable, Equatable {
    /// Where a proposal stands.
    public enum Status: String, Sendable {
        /// Waiting for votes (until it expires).
        case open
        /// Its changes were applied.
        case applied
        /// Too many orgs rejected it.
        case rejected
        /// It passed but its changes no longer applied (`outcome` says why).
        case failed
    }

    /// One org's vote.
    public struct Vote: Sendable, Equatable {
        /// The voting org.
        public var org: String
        /// Who signed: org, subject, certificate, txid, height, time.
        public var signer: JSONValue
    }

    /// `P-000001`, …
    public var id: String
    /// What it is for, in words.
    public var description: String
    /// The changes, applied in order.
    public var changes: [GovernanceChange]
    /// True when a change needs the critical threshold.
    public var critical: Bool
    /// Who proposed it.
    public var proposer: JSONValue
    /// Block time of the proposal.
    public var createdAt: Int64
    /// After this block time no vote counts.
    public var expiresAt: Int64
    /// Approving orgs (the proposer's first).
    public var approvals: [Vote]
    /// Rejecting orgs.
    public var rejections: [Vote]
    /// Where it stands.
    public var status: Status
    /// What happened when it closed.
    public var outcome: String?
    /// The configuration version it was proposed against.
    public var baseVersion: Int

    /// Its status at block time `now`: `expired` for an open proposal past its time.
    public func status(at now: Int64) -> String { status == .open && now > expiresAt ? "expired" : status.rawValue }

    /// The stored form.
    public var json: JSONValue {
        func votes(_ v: [Vote]) -> JSONValue { .array(v.map { .object(["org": .string($0.org), "signer": $0.signer]) }) }
        var o: [String: JSONValue] = [
            "id": .string(id), "description": .string(description), "changes": .array(changes.map(\.json)),
            "critical": .bool(critical), "proposer": proposer, "createdAt": .int(createdAt), "expiresAt": .int(expiresAt),
            "approvals": votes(approvals), "rejections": votes(rejections), "status": .string(status.rawValue),
            "baseVersion": .int(Int64(baseVersion)),
        ]
        if let outcome { o["outcome"] = .string(outcome) }
        return .object(o)
    }

    /// Reads the stored form; nil when it is not one.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let description = json["description"]?.stringValue,
            let changes = json["changes"]?.arrayValue, let critical = json["critical"]?.boolValue,
            let proposer = json["proposer"], let createdAt = json["createdAt"]?.int64Value,
            let expiresAt = json["expiresAt"]?.int64Value, let status = json["status"]?.stringValue.flatMap(Status.init),
            let base = json["baseVersion"]?.int64Value
        else { return nil }
        func votes(_ key: String) -> [Vote] {
            (json[key]?.arrayValue ?? []).compactMap { v in
                v["org"]?.stringValue.map { Vote(org: $0, signer: v["signer"] ?? .null) }
            }
        }
        var parsed: [GovernanceChange] = []
        for c in changes {
            guard let change = try? GovernanceChange(json: c) else { return nil }
            parsed.append(change)
        }
        self.init(
            id: id, description: description, changes: parsed, critical: critical, proposer: proposer, createdAt: createdAt,
            expiresAt: expiresAt, approvals: votes("approvals"), rejections: votes("rejections"), status: status,
            outcome: json["outcome"]?.stringValue, baseVersion: Int(base))
    }

    init(
        id: String, description: String, changes: [GovernanceChange], critical: Bool, proposer: JSONValue, createdAt: Int64,
        expiresAt: Int64, approvals: [Vote], rejections: [Vote], status: Status, outcome: String?, baseVersion: Int
    ) {
        self.id = id
        self.description = description
        self.changes = changes
        self.critical = critical
        self.proposer = proposer
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.approvals = approvals
        self.rejections = rejections
        self.status = status
        self.outcome = outcome
        self.baseVersion = baseVersion
    }
}

typealias Vote = Proposal.Vote
