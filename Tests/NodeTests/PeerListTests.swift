import ChainCore
import ChainTesting
import Foundation
import Identity
import Testing

@testable import Node

/// Which validators the peer network keeps connections with after a configuration change.
struct PeerListTests {
    @Test func aRevokedValidatorCertificateLeavesThePeerList() throws {
        let consortium = try TestConsortium(validators: 4)
        var config = consortium.genesis.initialConfig
        #expect(
            ConsensusService<InMemoryTransport>.peers(config, previous: nil).map(\.nodeId) == [
                "node0", "node1", "node2", "node3",
            ])
        let der = try KeyPEM.certificateDER(fromPEM: config.validators[1].certificate)
        config.revoked = [Hash256.sha256(der).hex]
        #expect(ConsensusService<InMemoryTransport>.peers(config, previous: nil).map(\.nodeId) == ["node0", "node2", "node3"])
    }

    @Test func thePreviousSetStaysConnectedAcrossAnEpochSwitch() throws {
        let consortium = try TestConsortium(validators: 4)
        let before = consortium.genesis.initialConfig
        var after = before
        after.validators.removeFirst()
        let list = ConsensusService<InMemoryTransport>.peers(after, previous: before.validators).map(\.nodeId)
        #expect(Set(list) == ["node0", "node1", "node2", "node3"])
        #expect(ConsensusService<InMemoryTransport>.peers(after, previous: nil).map(\.nodeId) == ["node1", "node2", "node3"])
    }
}
