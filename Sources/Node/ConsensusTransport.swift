import Identity
import P2P

/// How the consensus service reaches the other validators: the TLS peer network in a node, an
/// in-memory hub in tests. Delivery is best effort; consensus retransmits what matters.
public protocol ConsensusTransport: Sendable {
    /// Sends to one validator.
    func send(to nodeId: String, _ bytes: [UInt8])
    /// Sends to every other validator.
    func broadcast(_ bytes: [UInt8])
    /// Calls `handler` for each inbound message until the transport ends or the task is cancelled.
    func receive(_ handler: @escaping @Sendable (String, [UInt8]) -> Void) async
    /// Validators connected now.
    var connectedPeers: [String] { get }
    /// The validators to keep connections with (those in force and the previous epoch's), and the
    /// CA certificates their node certificates chain to.
    func setValidators(_ validators: [ChainConfig.Validator], caCertificates: [String])
}

extension ConsensusTransport {
    /// A transport whose peers are fixed ignores changes.
    public func setValidators(_ validators: [ChainConfig.Validator], caCertificates: [String]) {}
}

/// `ConsensusTransport` over the mutual-TLS peer network.
public struct PeerTransport: ConsensusTransport {
    /// The network.
    public let network: PeerNetwork

    /// Wraps a peer network.
    public init(network: PeerNetwork) { self.network = network }

    public func send(to nodeId: String, _ bytes: [UInt8]) { _ = try? network.send(to: nodeId, bytes) }

    public func broadcast(_ bytes: [UInt8]) { _ = try? network.broadcast(bytes) }

    public func receive(_ handler: @escaping @Sendable (String, [UInt8]) -> Void) async {
        for await message in network.messages {
            handler(message.from, message.bytes)
        }
    }

    public var connectedPeers: [String] { network.connectedPeers }

    public func setValidators(_ validators: [ChainConfig.Validator], caCertificates: [String]) {
        let peers = validators.compactMap { v in
            try? ValidatorPeer(nodeId: v.nodeId, certificatePEM: v.certificate, address: v.p2pAddress)
        }
        do {
            try network.update(validators: peers, caCertificatesPEM: caCertificates)
        } catch {
            // The set in force could not be applied (a certificate that does not parse): keep the old one.
        }
    }
}
