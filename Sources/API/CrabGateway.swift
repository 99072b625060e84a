import ChainCore
import Foundation
import Identity

/// The node as a gateway for anonymous consumers: it signs their `crab.scan`, `crab.complain`,
/// `crab.book_redemption` and `crab.transfer_coupon` transactions with its own node key and
/// certificate (role `node`), keeps their phone numbers off chain, and sends their one-time codes.
public struct CrabGateway: Sendable {
    /// The node's identity (role `node`).
    public let identity: SigningIdentity
    /// Off-chain phone numbers of complaints.
    public let complaints: OffchainComplaints
    /// Sends consumers' one-time codes; nil: this node runs no coupon flows (`gateway_unavailable`).
    public let sms: (any SMSSender)?

    /// Creates a gateway.
    public init(identity: SigningIdentity, complaints: OffchainComplaints, sms: (any SMSSender)? = nil) {
        self.identity = identity
        self.complaints = complaints
        self.sms = sms
    }

    /// The salted hash the chain gets for the consumer's device checking `object`: hex SHA-256 of
    /// `"XIANGCHAIN-DEVICE-V1" ‖ 0 ‖ salt ‖ 0 ‖ device ‖ 0 ‖ object`, where `device` is the page's
    /// own device id (or the client address when it sends none). Unlinkable between codes.
    public func deviceHash(device: String, object: String) -> String {
        saltedHash("XIANGCHAIN-DEVICE-V1", [device, object])
    }

    /// The salted hash the chain gets for the client address a check came from (failed checks are
    /// counted by it): hex SHA-256 of `"XIANGCHAIN-SOURCE-V1" ‖ 0 ‖ salt ‖ 0 ‖ address`.
    public func sourceHash(address: String) -> String { saltedHash("XIANGCHAIN-SOURCE-V1", [address]) }

    func saltedHash(_ domain: String, _ parts: [String]) -> String {
        var bytes = Array(domain.utf8)
        bytes.append(0)
        bytes += complaints.salt
        for p in parts {
            bytes.append(0)
            bytes += Array(p.utf8)
        }
        return Hash256.sha256(bytes).hex
    }

    /// The gateway of a node home: `node.key.pem`, `node.cert.pem`, the off-chain complaint
    /// files (sealed with `suite`'s cipher), and `sms` (default: the devnet's `<home>/sms.log`).
    public static func load(home: URL, suite: CryptoSuite, sms: (any SMSSender)? = nil) throws -> CrabGateway {
        let key = try KeyPEM.decode(String(contentsOf: home.appendingPathComponent("node.key.pem"), encoding: .utf8))
        let cert = try String(contentsOf: home.appendingPathComponent("node.cert.pem"), encoding: .utf8)
        return CrabGateway(
            identity: try SigningIdentity(key: key, certificatePEM: cert),
            complaints: try OffchainComplaints(home: home, suite: suite), sms: sms ?? FileSMSSender(home: home))
    }
}
