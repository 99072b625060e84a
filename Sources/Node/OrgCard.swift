import ChainCore
import Foundation
import Identity

/// An organisation's public card: what the other orgs need to admit it (in a genesis or later by
/// a governance proposal) — its name, its root CA certificate, the roles it asks to hold, its
/// intermediate CAs, and its nodes with their certificates and advertised addresses. It holds no
/// secret; `xiangchain org init` writes it next to the org's keys.
public struct OrgCard: Codable, Sendable, Equatable {
    /// A node the org runs.
    public struct Node: Codable, Sendable, Equatable {
        /// Node id (the CN of its certificate).
        public var nodeId: String
        /// Its node certificate, PEM.
        public var certificate: String
        /// Where peers reach its p2p port, host:port.
        public var p2pAddress: String
        /// Where its API is reached, e.g. `https://node1.example.org`.
        public var apiURL: String
        /// True when it asks to be a validator (otherwise an observer).
        public var validator: Bool

        /// Creates a node entry.
        public init(nodeId: String, certificate: String, p2pAddress: String, apiURL: String, validator: Bool) {
            self.nodeId = nodeId
            self.certificate = certificate
            self.p2pAddress = p2pAddress
            self.apiURL = apiURL
            self.validator = validator
        }
    }

    /// Card format version (1).
    public var version: Int
    /// Organisation name.
    public var org: String
    /// The chain's crypto suite the keys are of.
    public var suite: CryptoSuite
    /// Root CA certificate, PEM.
    public var caCertificate: String
    /// The roles the org asks to hold (besides admin).
    public var roles: [Role]
    /// Intermediate CAs (e.g. of its nodes' console accounts) with the roles each may issue.
    public var issuers: [ChainConfig.Issuer]
    /// Its nodes.
    public var nodes: [Node]

    /// Creates a card.
    public init(
        org: String, suite: CryptoSuite, caCertificate: String, roles: [Role], issuers: [ChainConfig.Issuer], nodes: [Node]
    ) {
        version = 1
        self.org = org
        self.suite = suite
        self.caCertificate = caCertificate
        self.roles = roles
        self.issuers = issuers
        self.nodes = nodes
    }

    /// Loads and checks a card: names, the CA is a self-signed CA of the org, every node and
    /// issuer certificate is issued by it (`bad_args`, `bad_certificate`).
    public static func load(from url: URL) throws -> OrgCard {
        let card: OrgCard
        do {
            card = try JSONDecoder().decode(OrgCard.self, from: Data(contentsOf: url))
        } catch {
            throw ChainError(.badArgs, "\(url.path) is not an org card: \(error)")
        }
        try card.check()
        return card
    }

    /// Checks the card's own consistency.
    public func check() throws(ChainError) {
        guard version == 1 else { throw ChainError(.badArgs, "org card version \(version) is not known") }
        guard NetworkLayout.isSafeName(org) else { throw ChainError(.badArgs, "org name must be 1–64 of [A-Za-z0-9_-]") }
        let ca = try CertificateInfo(pem: caCertificate)
        guard ca.hasSoundKey else {
            throw ChainError(
                .badCertificate,
                "the card's CA certificate carries \(CertificateInfo.unsoundKey)"
            )
        }
        guard ca.isCA, ca.isIssued(by: ca), ca.org == org, ca.hasKey(of: suite) else {
            throw ChainError(.badCertificate, "the card's CA is not a self-signed \(suite.rawValue) CA of \(org)")
        }
        var ids = Set<String>()
        for n in nodes {
            guard NetworkLayout.isSafeName(n.nodeId), ids.insert(n.nodeId).inserted else {
                throw ChainError(.badArgs, "node ids must be unique and 1–64 of [A-Za-z0-9_-]")
            }
            let cert = try CertificateInfo(pem: n.certificate)
            guard cert.hasSoundKey else {
                throw ChainError(
                    .badCertificate,
                    "node \(n.nodeId)'s certificate carries \(CertificateInfo.unsoundKey)"
                )
            }
            guard cert.isIssued(by: ca), cert.role == .node, cert.commonName == n.nodeId, cert.org == org else {
                throw ChainError(.badCertificate, "node \(n.nodeId)'s certificate is not a node certificate of \(org)'s CA")
            }
        }
        for i in issuers {
            let cert = try CertificateInfo(pem: i.certificate)
            guard cert.hasSoundKey else {
                throw ChainError(.badCertificate, "an issuer of the card carries \(CertificateInfo.unsoundKey)")
            }
            guard cert.isCA, cert.isIssued(by: ca), cert.org == org else {
                throw ChainError(.badCertificate, "an issuer of the card is not a CA certificate issued by \(org)'s CA")
            }
        }
    }

    /// Writes pretty JSON.
    public func write(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try enc.encode(self).write(to: url, options: .atomic)
    }
}
