import ChainCore
import Foundation
import Identity

/// Applies governance changes to a configuration, checking each against it: names, CA and node
/// certificates, the role policy, and that the chain keeps at least one org, one root per org and
/// one validator. Deterministic: every node applies the same changes to the same configuration.
enum ConfigEditor {
    /// Applies `changes` in order (all or nothing) at block time `time`; bumps the version, and
    /// the epoch when the validators changed.
    static func apply(_ changes: [GovernanceChange], to config: ChainConfig, at time: Int64) throws(ChainError) -> ChainConfig {
        var c = config
        for change in changes { try apply(change, to: &c, at: time) }
        c.version += 1
        if c.validators != config.validators { c.epoch += 1 }
        return c
    }

    static func refuse(_ message: String) -> ChainError { ChainError(.changeNotApplicable, message) }

    static func isName(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy {
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || $0 == 0x2d || $0 == 0x5f
            }
    }

    static func isAddress(_ s: String) -> Bool {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else {
            return false
        }
        let host = s[..<colon]
        return !host.isEmpty && host.utf8.count <= 253 && !host.contains(where: { $0 == "/" || $0 == " " })
    }

    /// A self-signed CA certificate of `org` with a key of the chain's suite, valid at `time`.
    static func checkRoot(_ pem: String, org: String, config: ChainConfig, at time: Int64) throws(ChainError) -> CertificateInfo {
        let ca = try CertificateInfo(pem: pem)
        guard ca.hasSoundKey else {
            throw refuse(
                "the CA certificate of \(org) carries \(CertificateInfo.unsoundKey)"
            )
        }
        guard ca.isCA, ca.isIssued(by: ca) else { throw refuse("the CA certificate of \(org) is not a self-signed CA") }
        guard ca.org == org else { throw refuse("the CA certificate names org \(ca.org ?? "none"), not \(org)") }
        guard ca.hasKey(of: config.suite) else {
            throw refuse("the CA certificate of \(org) has no \(config.suite.rawValue) key, as this chain requires")
        }
        guard ca.notAfter.timeIntervalSince1970 * 1000 > Double(time) else {
            throw refuse("the CA certificate of \(org) has expired")
        }
        return ca
    }

    /// A node certificate of `nodeId` issued by one of `org`'s roots.
    static func checkNode(_ pem: String, nodeId: String, org: ChainConfig.Org, config: ChainConfig, at time: Int64)
        throws(ChainError)
    {
        let cert = try CertificateInfo(pem: pem)
        guard !cert.isCA, cert.role == .node, cert.commonName == nodeId, cert.org == org.name else {
            throw refuse(
                "the certificate of validator \(nodeId) must be a node certificate (OU=node, CN=\(nodeId), O=\(org.name))")
        }
        var issued = false
        for root in org.roots {
            if let ca = try? CertificateInfo(pem: root), cert.isIssued(by: ca) { issued = true }
        }
        guard issued else { throw refuse("the certificate of validator \(nodeId) is not issued by a CA of \(org.name)") }
        guard cert.hasKey(of: config.suite) else {
            throw refuse("the certificate of validator \(nodeId) has no \(config.suite.rawValue) key")
        }
        guard cert.hasSoundKey else {
            throw refuse(
                "the certificate of validator \(nodeId) carries \(CertificateInfo.unsoundKey)"
            )
        }
        guard !config.isRevoked(cert.fingerprint) else { throw refuse("the certificate of validator \(nodeId) is revoked") }
        guard cert.notAfter.timeIntervalSince1970 * 1000 > Double(time) else {
            throw refuse("the certificate of validator \(nodeId) has expired")
        }
    }

    static func apply(_ change: GovernanceChange, to c: inout ChainConfig, at time: Int64) throws(ChainError) {
        func orgIndex(_ name: String) throws(ChainError) -> Int {
            guard let i = c.orgs.firstIndex(where: { $0.name == name }) else { throw refuse("no org \(name)") }
            return i
        }
        func validatorIndex(_ id: String) throws(ChainError) -> Int {
            guard let i = c.validators.firstIndex(where: { $0.nodeId == id }) else { throw refuse("no validator \(id)") }
            return i
        }
        switch change {
        case .addOrg(let name, let ca, let roles, let api):
            guard isName(name) else { throw refuse("an org name is 1–64 of [A-Za-z0-9_-]") }
            guard c.org(name) == nil else { throw refuse("org \(name) is already a member") }
            _ = try checkRoot(ca, org: name, config: c, at: time)
            c.orgs.append(ChainConfig.Org(name: name, roots: [ca], roles: roles, apiURL: api))
            c.orgs.sort { $0.name < $1.name }
        case .removeOrg(let name):
            let i = try orgIndex(name)
            guard !c.validators.contains(where: { $0.org == name }) else {
                throw refuse("org \(name) still runs validators: remove them first")
            }
            guard c.orgs.count > 1 else { throw refuse("the last org cannot be removed") }
            c.orgs.remove(at: i)
        case .setRoles(let org, let roles):
            let i = try orgIndex(org)
            if c.validators.contains(where: { $0.org == org }), !roles.contains(.node) {
                throw refuse("org \(org) runs validators and must keep the node role")
            }
            c.orgs[i].roles = roles
            c.orgs[i].issuers = c.orgs[i].issuers.map {
                ChainConfig.Issuer(certificate: $0.certificate, roles: $0.roles.filter { roles.contains($0) })
            }
        case .addCA(let org, let ca):
            let i = try orgIndex(org)
            let info = try checkRoot(ca, org: org, config: c, at: time)
            guard !c.orgs[i].roots.contains(where: { (try? CertificateInfo(pem: $0))?.fingerprint == info.fingerprint }) else {
                throw refuse("org \(org) already has this CA")
            }
            c.orgs[i].roots.append(ca)
        case .removeCA(let org, let fingerprint):
            let i = try orgIndex(org)
            guard let r = c.orgs[i].roots.firstIndex(where: { (try? CertificateInfo(pem: $0))?.fingerprint == fingerprint })
            else { throw refuse("org \(org) has no CA with fingerprint \(fingerprint)") }
            guard c.orgs[i].roots.count > 1 else { throw refuse("org \(org) must keep one CA: add the new one first") }
            c.orgs[i].roots.remove(at: r)
        case .addValidator(let id, let org, let cert, let address):
            guard isName(id) else { throw refuse("a node id is 1–64 of [A-Za-z0-9_-]") }
            guard !c.validators.contains(where: { $0.nodeId == id }) else { throw refuse("\(id) is already a validator") }
            let o = c.orgs[try orgIndex(org)]
            guard o.permits(.node) else { throw refuse("org \(org) may not hold the node role") }
            guard isAddress(address) else { throw refuse("p2pAddress must be host:port") }
            try checkNode(cert, nodeId: id, org: o, config: c, at: time)
            c.validators.append(ChainConfig.Validator(nodeId: id, org: org, certificate: cert, p2pAddress: address))
        case .removeValidator(let id):
            let i = try validatorIndex(id)
            guard c.validators.count > 1 else { throw refuse("the last validator cannot be removed") }
            c.validators.remove(at: i)
        case .updateValidator(let id, let cert, let address):
            let i = try validatorIndex(id)
            if let cert {
                try checkNode(cert, nodeId: id, org: c.orgs[try orgIndex(c.validators[i].org)], config: c, at: time)
                c.validators[i].certificate = cert
            }
            if let address {
                guard isAddress(address) else { throw refuse("p2pAddress must be host:port") }
                c.validators[i].p2pAddress = address
            }
        case .setParameters(let p):
            if let v = p.maxBlockTxs { c.parameters.maxBlockTxs = v }
            if let v = p.maxBlockBytes { c.parameters.maxBlockBytes = v }
            if let v = p.roundTimeoutMs { c.parameters.roundTimeoutMs = v }
            if let v = p.mempoolCapacity { c.parameters.mempoolCapacity = v }
            if let v = p.crabProducts { c.parameters.crabProducts = v }
            if let v = p.contractDeployers { c.parameters.contractDeployers = v }
            if let v = p.contractTxFuel { c.parameters.contractTxFuel = v }
            if let v = p.contractBlockFuel { c.parameters.contractBlockFuel = v }
        case .setApprovalPolicy(let p):
            c.approval = p
        case .revoke(let fingerprints):
            let validatorCerts = Set(c.validators.compactMap { try? CertificateInfo(pem: $0.certificate).fingerprint })
            if let fp = fingerprints.first(where: validatorCerts.contains) {
                throw refuse("certificate \(fp) belongs to a validator: remove or update the validator instead")
            }
            c.revoke(fingerprints)
        }
    }
}
