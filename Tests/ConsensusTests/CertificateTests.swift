import ChainCore
import ChainTesting
import Consensus
import Testing

@Suite struct CertificateTests {
    let ids = ["v0", "v1", "v2", "v3"]
    var validators: ValidatorSet { SimCrypto.validatorSet(ids) }
    func crypto(_ id: String) -> SimCrypto { SimCrypto(selfID: id, ids: ids) }
    let genesis = Hash256.sha256([7])
    let data = VoteData(blockID: Hash256.sha256([1]), round: 5, height: 3, parentID: Hash256.sha256([2]), parentRound: 4)

    func vote(_ id: String, _ d: VoteData? = nil) -> SignerSignature {
        SignerSignature(signer: id, signature: crypto(id).sign((d ?? data).signingBytes))
    }

    @Test func quorumArithmetic() throws {
        #expect(validators.quorum == 3 && validators.faultTolerance == 1)
        let seven = SimCrypto.validatorSet((0..<7).map { "v\($0)" })
        #expect(seven.quorum == 5 && seven.faultTolerance == 2)
        #expect(SimCrypto.validatorSet(["a"]).quorum == 1)
        #expect(validators.leader(of: 5) == "v1")
    }

    @Test func aQuorumOfDistinctValidSignersCertifies() {
        let qc = QuorumCertificate(data: data, votes: [vote("v0"), vote("v2"), vote("v3")])
        #expect(qc.verify(validators: validators, crypto: crypto("v1"), genesisID: genesis))
    }

    @Test func tooFewDuplicateForeignOrWrongSignersAreRefused() {
        let c = crypto("v1")
        let cases: [[SignerSignature]] = [
            [vote("v0"), vote("v2")],  // below quorum
            [vote("v0"), vote("v0"), vote("v2")],  // a signer counted twice
            [vote("v0"), vote("v2"), SignerSignature(signer: "v9", signature: [1])],  // not a validator
            [vote("v0"), vote("v2"), SignerSignature(signer: "v3", signature: vote("v2").signature)],  // wrong signature
            [vote("v0"), vote("v2"), vote("v3", VoteData(blockID: .zero, round: 5, height: 3, parentID: .zero, parentRound: 4))],
        ]
        for votes in cases {
            #expect(!QuorumCertificate(data: data, votes: votes).verify(validators: validators, crypto: c, genesisID: genesis))
        }
        // Only the exact genesis QC is valid at round 0.
        #expect(QuorumCertificate.genesis(genesis).verify(validators: validators, crypto: c, genesisID: genesis))
        #expect(!QuorumCertificate.genesis(Hash256.sha256([8])).verify(validators: validators, crypto: c, genesisID: genesis))
    }

    @Test func timeoutCertificatesNeedAQuorumAndKeepTheHighestQCRound() {
        func entry(_ id: String, _ qcRound: UInt64, round: UInt64 = 9) -> TimeoutSignature {
            TimeoutSignature(
                signer: id, highQCRound: qcRound,
                signature: crypto(id).sign(TimeoutMessage.signingBytes(round: round, highQCRound: qcRound)))
        }
        let tc = TimeoutCertificate(round: 9, entries: [entry("v0", 7), entry("v1", 8), entry("v3", 5)])
        #expect(tc.verify(validators: validators, crypto: crypto("v2")))
        #expect(tc.highQCRound == 8)
        #expect(
            !TimeoutCertificate(round: 9, entries: [entry("v0", 7), entry("v1", 8)]).verify(
                validators: validators, crypto: crypto("v2")))
        #expect(
            !TimeoutCertificate(round: 9, entries: [entry("v0", 7), entry("v0", 7), entry("v1", 8)]).verify(
                validators: validators, crypto: crypto("v2")))
        // A signature for another round does not count.
        #expect(
            !TimeoutCertificate(round: 9, entries: [entry("v0", 7), entry("v1", 8), entry("v3", 5, round: 8)]).verify(
                validators: validators, crypto: crypto("v2")))
    }

    @Test func messagesRoundTripAndHostileBytesAreRefused() throws {
        let c = crypto("v1")
        let qc = QuorumCertificate(data: data, votes: [vote("v0"), vote("v2"), vote("v3")])
        let block = ConsensusBlock(round: 6, parent: qc, payload: [1, 2, 3], timestamp: 99, crypto: c)
        let messages: [ConsensusMessage] = [
            .proposal(block, tc: nil),
            .vote(Vote(data: block.voteData, signer: "v1", signature: c.sign(block.voteData.signingBytes))),
            .timeout(TimeoutMessage(round: 6, highQC: qc, signer: "v1", signature: [9]), tc: nil),
            .blockRequest(id: block.id, count: 5),
            .blockResponse([block]),
        ]
        for m in messages {
            let bytes = m.encoded
            #expect(try ConsensusMessage.decode(bytes, hasher: .sha256) == m)
            for cut in [0, 1, 2, bytes.count / 2, bytes.count - 1] {
                #expect(throws: ChainError.self) { try ConsensusMessage.decode(Array(bytes.prefix(cut)), hasher: .sha256) }
            }
            #expect(throws: ChainError.self) { try ConsensusMessage.decode(bytes + [0], hasher: .sha256) }
        }
        // The block id is recomputed from the fields, so a changed payload changes the id.
        var bytes = ConsensusMessage.proposal(block, tc: nil).encoded
        let payloadAt = bytes.count - (4 + 2 + 8 + 4 + 32) - 3
        bytes[payloadAt] ^= 0xff
        if case .proposal(let altered, _) = try ConsensusMessage.decode(bytes, hasher: .sha256) {
            #expect(altered.id != block.id)
        }
        #expect(throws: ChainError.self) { try ConsensusMessage.decode([1, 5, 0xff, 0xff, 0xff, 0xff], hasher: .sha256) }
        #expect(throws: ChainError.self) { try ConsensusMessage.decode([2, 1], hasher: .sha256) }
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<2_000 {
            let junk = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try? ConsensusMessage.decode(junk, hasher: .sha256)  // must not crash
        }
    }

    @Test func safetyDataRoundTrips() throws {
        let s = SafetyData(highestVotedRound: 12, highestQCRound: 10, highQC: QuorumCertificate(data: data, votes: [vote("v0")]))
        #expect(try SafetyData.decode(s.encoded) == s)
        #expect(throws: ChainError.self) { try SafetyData.decode(Array(s.encoded.dropLast())) }
        var proposed = s
        proposed.lastProposedRound = 13
        #expect(try SafetyData.decode(proposed.encoded) == proposed)
        // Version 1 (before the last proposed round was kept) still reads, as 0.
        var v1 = Array(s.encoded.dropLast(8))
        v1[0] = 1
        #expect(try SafetyData.decode(v1) == s)
    }
}
