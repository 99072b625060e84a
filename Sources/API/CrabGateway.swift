import ChainCore
import Foundation
import Identity

/// The node as a gateway for anonymous consumers: it signs their `crab.scan` and `crab.complain`
/// transactions with its own node key and certificate (role `node`), and keeps their phone
/// numbers off chain.
public struct CrabGateway: Sendable {
    /// The node's identity (role `node`).
    public let identity: SigningIdentity
    /// Off-chain phone numbers of complaints.
    public let complaints: OffchainComplaints

    /// Creates a gateway.
    public init(identity: SigningIdentity, complaints: OffchainComplaints) {
        self.identity = identity
        self.complaints = complaints
    }

    /// The gateway of a node home: `node.key.pem`, `node.cert.pem`, and the off-chain complaint files.
    public static func load(home: URL) throws -> CrabGateway {
        let key = try KeyPEM.decode(String(contentsOf: home.appendingPathComponent("node.key.pem"), encoding: .utf8))
        let cert = try String(contentsOf: home.appendingPathComponent("node.cert.pem"), encoding: .utf8)
        return CrabGateway(
            identity: try SigningIdentity(key: key, certificatePEM: cert), complaints: try OffchainComplaints(home: home))
    }
}
