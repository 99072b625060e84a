import ChainCore
import Identity

/// One change a governance proposal makes to the chain configuration, as `{"type": …, …}`.
public enum GovernanceChange: Sendable, Equatable {
    /// A new member org with its root CA certificate and the roles it may hold.
    case addOrg(name: String, caCertificate: String, roles: [Role], apiURL: String?)
    /// Removes an org: its certificates no longer sign (critical).
    case removeOrg(name: String)
    /// Sets the roles an org may hold (critical: the role policy).
    case setRoles(org: String, roles: [Role])
    /// Adds a root CA certificate to an org (CA rotation).
    case addCA(org: String, caCertificate: String)
    /// Removes a root CA of an org by fingerprint (after rotation).
    case removeCA(org: String, fingerprint: String)
    /// Adds a validator at the end of the leader order (critical; a new epoch).
    case addValidator(nodeId: String, org: String, certificate: String, p2pAddress: String)
    /// Removes a validator (critical; a new epoch).
    case removeValidator(nodeId: String)
    /// Gives a validator a new node certificate or address (critical; a new epoch).
    case updateValidator(nodeId: String, certificate: String?, p2pAddress: String?)
    /// Sets chain-wide parameters (only the given ones change).
    case setParameters(ChainConfig.Parameters)
    /// Sets the approval policy (critical).
    case setApprovalPolicy(ChainConfig.ApprovalPolicy)
    /// Revokes certificates by fingerprint.
    case revoke(fingerprints: [String])

    /// Changes that need the critical threshold (validators, roles, removals, the policy).
    public var isCritical: Bool {
        switch self {
        case .removeOrg, .setRoles, .addValidator, .removeValidator, .updateValidator, .setApprovalPolicy: true
        case .addOrg, .addCA, .removeCA, .setParameters, .revoke: false
        }
    }

    /// The change's JSON form.
    public var json: JSONValue {
        func roles(_ r: [Role]) -> JSONValue { .array(r.map { .string($0.rawValue) }) }
        switch self {
        case .addOrg(let name, let ca, let r, let api):
            var o: [String: JSONValue] = [
                "type": .string("add_org"), "name": .string(name), "caCertificate": .string(ca), "roles": roles(r),
            ]
            if let api { o["apiURL"] = .string(api) }
            return .object(o)
        case .removeOrg(let name): return .object(["type": .string("remove_org"), "name": .string(name)])
        case .setRoles(let org, let r): return .object(["type": .string("set_roles"), "org": .string(org), "roles": roles(r)])
        case .addCA(let org, let ca):
            return .object(["type": .string("add_ca"), "org": .string(org), "caCertificate": .string(ca)])
        case .removeCA(let org, let fp):
            return .object(["type": .string("remove_ca"), "org": .string(org), "fingerprint": .string(fp)])
        case .addValidator(let id, let org, let cert, let address):
            return .object([
                "type": .string("add_validator"), "nodeId": .string(id), "org": .string(org), "certificate": .string(cert),
                "p2pAddress": .string(address),
            ])
        case .removeValidator(let id): return .object(["type": .string("remove_validator"), "nodeId": .string(id)])
        case .updateValidator(let id, let cert, let address):
            var o: [String: JSONValue] = ["type": .string("update_validator"), "nodeId": .string(id)]
            if let cert { o["certificate"] = .string(cert) }
            if let address { o["p2pAddress"] = .string(address) }
            return .object(o)
        case .setParameters(let p):
            var o: [String: JSONValue] = ["type": .string("set_parameters")]
            if let v = p.maxBlockTxs { o["maxBlockTxs"] = .int(Int64(v)) }
            if let v = p.maxBlockBytes { o["maxBlockBytes"] = .int(Int64(v)) }
            if let v = p.roundTimeoutMs { o["roundTimeoutMs"] = .int(Int64(v)) }
            if let v = p.mempoolCapacity { o["mempoolCapacity"] = .int(Int64(v)) }
            if let v = p.crabProducts { o["crabProducts"] = .array(v.map(JSONValue.string)) }
            if let v = p.contractDeployers { o["contractDeployers"] = .array(v.map(JSONValue.string)) }
            if let v = p.contractTxFuel { o["contractTxFuel"] = .int(Int64(v)) }
            if let v = p.contractBlockFuel { o["contractBlockFuel"] = .int(Int64(v)) }
            return .object(o)
        case .setApprovalPolicy(let p):
            return .object([
                "type": .string("set_approval_policy"), "ordinaryNumerator": .int(Int64(p.ordinaryNumerator)),
                "ordinaryDenominator": .int(Int64(p.ordinaryDenominator)),
                "criticalNumerator": .int(Int64(p.criticalNumerator)),
                "criticalDenominator": .int(Int64(p.criticalDenominator)),
                "proposalLifetimeMs": .int(p.proposalLifetimeMs),
            ])
        case .revoke(let fps): return .object(["type": .string("revoke"), "fingerprints": .array(fps.map(JSONValue.string))])
        }
    }

    /// Parses a change (`bad_args` naming what is wrong).
    public init(json: JSONValue) throws(ChainError) {
        guard let o = json.objectValue, let type = o["type"]?.stringValue else {
            throw ChainError(.badArgs, "a change is an object with a \"type\"")
        }
        func allowed(_ keys: Set<String>) throws(ChainError) {
            if let extra = o.keys.sorted().first(where: { !keys.contains($0) && $0 != "type" }) {
                throw ChainError(.badArgs, "change \(type): unknown member \"\(extra)\"")
            }
        }
        func string(_ k: String, max: Int = 64) throws(ChainError) -> String {
            guard let s = o[k]?.stringValue, !s.isEmpty, s.utf8.count <= max else {
                throw ChainError(.badArgs, "change \(type): \"\(k)\" must be a string of 1–\(max) bytes")
            }
            return s
        }
        func optionalString(_ k: String, max: Int) throws(ChainError) -> String? {
            guard o[k] != nil, o[k] != .null else { return nil }
            return try string(k, max: max)
        }
        func roles(_ k: String) throws(ChainError) -> [Role] {
            guard let list = o[k]?.arrayValue, list.count <= Role.allCases.count else {
                throw ChainError(.badArgs, "change \(type): \"\(k)\" must be a list of roles")
            }
            var out: [Role] = []
            for v in list {
                guard let s = v.stringValue, let r = Role(rawValue: s) else {
                    throw ChainError(.badArgs, "change \(type): unknown role \(v.canonicalString)")
                }
                if !out.contains(r) { out.append(r) }
            }
            return out.sorted { $0.rawValue < $1.rawValue }
        }
        func int(_ k: String, _ range: ClosedRange<Int64>) throws(ChainError) -> Int64? {
            guard let v = o[k], v != .null else { return nil }
            guard let n = v.int64Value, range.contains(n) else {
                throw ChainError(
                    .badArgs, "change \(type): \"\(k)\" must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return n
        }
        let pemMax = 16 * 1024
        switch type {
        case "add_org":
            try allowed(["name", "caCertificate", "roles", "apiURL"])
            self = .addOrg(
                name: try string("name"), caCertificate: try string("caCertificate", max: pemMax), roles: try roles("roles"),
                apiURL: try optionalString("apiURL", max: 256))
        case "remove_org":
            try allowed(["name"])
            self = .removeOrg(name: try string("name"))
        case "set_roles":
            try allowed(["org", "roles"])
            self = .setRoles(org: try string("org"), roles: try roles("roles"))
        case "add_ca":
            try allowed(["org", "caCertificate"])
            self = .addCA(org: try string("org"), caCertificate: try string("caCertificate", max: pemMax))
        case "remove_ca":
            try allowed(["org", "fingerprint"])
            self = .removeCA(org: try string("org"), fingerprint: try string("fingerprint"))
        case "add_validator":
            try allowed(["nodeId", "org", "certificate", "p2pAddress"])
            self = .addValidator(
                nodeId: try string("nodeId"), org: try string("org"), certificate: try string("certificate", max: pemMax),
                p2pAddress: try string("p2pAddress", max: 256))
        case "remove_validator":
            try allowed(["nodeId"])
            self = .removeValidator(nodeId: try string("nodeId"))
        case "update_validator":
            try allowed(["nodeId", "certificate", "p2pAddress"])
            let cert = try optionalString("certificate", max: pemMax)
            let address = try optionalString("p2pAddress", max: 256)
            guard cert != nil || address != nil else {
                throw ChainError(.badArgs, "change update_validator: give a certificate, a p2pAddress or both")
            }
            self = .updateValidator(nodeId: try string("nodeId"), certificate: cert, p2pAddress: address)
        case "set_parameters":
            try allowed([
                "maxBlockTxs", "maxBlockBytes", "roundTimeoutMs", "mempoolCapacity", "crabProducts", "contractDeployers",
                "contractTxFuel", "contractBlockFuel",
            ])
            var p = ChainConfig.Parameters()
            p.maxBlockTxs = try int("maxBlockTxs", 1...100_000).map { Int($0) }
            p.maxBlockBytes = try int("maxBlockBytes", 1024...(256 << 20)).map { Int($0) }
            p.roundTimeoutMs = try int("roundTimeoutMs", 100...600_000).map { Int($0) }
            p.mempoolCapacity = try int("mempoolCapacity", 1...10_000_000).map { Int($0) }
            if let list = o["crabProducts"], list != .null {
                guard let a = list.arrayValue, a.count <= 1000 else {
                    throw ChainError(.badArgs, "change set_parameters: \"crabProducts\" must be a list of GTIN-14s")
                }
                var gtins: [String] = []
                for v in a {
                    guard let g = v.stringValue, g.utf8.count == 14, g.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                        throw ChainError(.badArgs, "change set_parameters: \(v.canonicalString) is not a GTIN-14")
                    }
                    gtins.append(g)
                }
                p.crabProducts = gtins
            }
            p.contractTxFuel = try int("contractTxFuel", 100_000...10_000_000_000).map { Int($0) }
            p.contractBlockFuel = try int("contractBlockFuel", 100_000...1_000_000_000_000).map { Int($0) }
            if let list = o["contractDeployers"], list != .null {
                guard let a = list.arrayValue, a.count <= 100 else {
                    throw ChainError(.badArgs, "change set_parameters: \"contractDeployers\" must be a list of \"org/role\"")
                }
                var entries: [String] = []
                for v in a {
                    guard let e = v.stringValue, e.utf8.count <= 128,
                        e.split(separator: "/", omittingEmptySubsequences: false).count == 2,
                        e.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ !$0.isEmpty })
                    else {
                        throw ChainError(.badArgs, "change set_parameters: \(v.canonicalString) is not \"org/role\"")
                    }
                    entries.append(e)
                }
                p.contractDeployers = entries
            }
            guard p != ChainConfig.Parameters() else {
                throw ChainError(.badArgs, "change set_parameters: give at least one parameter")
            }
            self = .setParameters(p)
        case "set_approval_policy":
            try allowed([
                "ordinaryNumerator", "ordinaryDenominator", "criticalNumerator", "criticalDenominator", "proposalLifetimeMs",
            ])
            func need(_ k: String, _ r: ClosedRange<Int64>) throws(ChainError) -> Int64 {
                guard let v = try int(k, r) else {
                    throw ChainError(.badArgs, "change set_approval_policy: \"\(k)\" is required")
                }
                return v
            }
            let p = ChainConfig.ApprovalPolicy(
                ordinaryNumerator: Int(try need("ordinaryNumerator", 1...100)),
                ordinaryDenominator: Int(try need("ordinaryDenominator", 1...100)),
                criticalNumerator: Int(try need("criticalNumerator", 1...100)),
                criticalDenominator: Int(try need("criticalDenominator", 1...100)),
                proposalLifetimeMs: try need("proposalLifetimeMs", 60_000...(90 * 86_400_000)))
            // Ordinary changes need more than half; critical ones at least what ordinary ones need.
            guard p.ordinaryNumerator * 2 >= p.ordinaryDenominator, p.ordinaryNumerator < p.ordinaryDenominator,
                p.criticalNumerator <= p.criticalDenominator,
                p.criticalNumerator * p.ordinaryDenominator >= p.ordinaryNumerator * p.criticalDenominator
            else {
                throw ChainError(
                    .badArgs,
                    "change set_approval_policy: ordinary changes need more than half, critical ones at least as much (at most all)"
                )
            }
            self = .setApprovalPolicy(p)
        case "revoke":
            try allowed(["fingerprints"])
            guard let list = o["fingerprints"]?.arrayValue, (1...1000).contains(list.count) else {
                throw ChainError(.badArgs, "change revoke: \"fingerprints\" must list 1–1000 certificate fingerprints")
            }
            var fps: [String] = []
            for v in list {
                guard let s = v.stringValue, Hex.isLowercase(s, byteCount: 32) else {
                    throw ChainError(.badArgs, "change revoke: \(v.canonicalString) is not a lowercase hex SHA-256 fingerprint")
                }
                fps.append(s)
            }
            self = .revoke(fingerprints: fps)
        default:
            throw ChainError(.badArgs, "unknown change type \"\(type)\"")
        }
    }
}
