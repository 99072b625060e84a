import API
import Accounts
import ChainCore
import ChainTesting
import EvidenceContract
import Foundation
import Identity
import Node
import Storage
import Testing

/// The replica of a node of the hosting org, on a real node and real files: it publishes its own
/// changes, applies another node's records of its org, and ignores or refuses what is not its
/// org's or does not open (the chain is a trust boundary: any node may submit `hosting.record`).
@Suite struct HostingReplicaTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1"]) }
    static let hostingKey = [UInt8](repeating: 5, count: 32)

    struct Env {
        let node: ChainNode
        let store: AccountStore
        let complaints: OffchainComplaints
        let replica: HostingReplica
        let dir: URL
    }

    func withReplica(_ body: (Env) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            let node = try consortium.node(in: dir, config: config, contracts: [EvidenceContract(), HostingContract()])
            let store = try AccountStore(
                path: dir.appendingPathComponent("accounts.sqlite").path, realNameSalt: Array(repeating: 1, count: 32),
                dataKey: Array(repeating: 2, count: 32), suite: .ed25519, kdf: PasswordKDF(iterations: 1_000))
            let complaints = try OffchainComplaintsTests.open(dir)
            let replica = try HostingReplica(
                node: node, admission: Admission(node: node, upstream: nil), identity: try consortium.nodeIdentity(),
                org: "org0", hostingKey: Self.hostingKey, accounts: store, complaints: complaints)
            try await body(Env(node: node, store: store, complaints: complaints, replica: replica, dir: dir))
        }
    }

    func account(_ username: String) -> NewAccount {
        NewAccount(
            username: username, name: "王小明", idNumber: "32050019900101123X", phone: "13912345678", role: .merchant,
            password: "password-of-\(username)")
    }

    /// A record as another node of an org would publish it.
    func submit(
        _ env: Env, kind: String = "account", body: JSONValue, key: [UInt8] = hostingKey, org: String = "org0",
        signer: SigningIdentity? = nil, raw: [UInt8]? = nil
    ) throws {
        let record = JSONValue.object(["v": .int(1), "kind": .string(kind), "node": .string("node9"), "body": body])
        let box = try AtRestCipher(key: key, suite: .ed25519).seal(
            raw ?? record.canonicalBytes, context: "\(HostingReplica.contextPrefix)\u{0}\(org)")
        let tx = try (signer ?? consortium.nodeIdentity()).transaction(
            chain: env.node.chainId,
            call: ContractCall(
                contract: "hosting", method: "record", args: .object(["box": .string(Data(box).base64EncodedString())])))
        try env.node.submit(tx)
        _ = try env.node.produceBlock()
    }

    @Test func ownChangesArePublishedAndOtherNodesRecordsApplied() async throws {
        try await withReplica { env in
            _ = try env.store.create(account("clerk"), ca: consortium.cas["org1"]!, suite: .ed25519)
            #expect(try await env.replica.syncOnce().published == 1)
            // Published again only after the retry delay.
            #expect(try await env.replica.syncOnce().published == 0)
            _ = try env.node.produceBlock()
            #expect(try await env.replica.syncOnce() == (1, 0))
            #expect(try env.store.unpublished().isEmpty)
            // The chain holds ciphertext only.
            let events = try env.node.store.events(contract: "hosting", name: "record", limit: 10)
            #expect(events.count == 1 && !events[0].data.contains("13912345678") && !events[0].data.contains("clerk"))

            // Another node of the org made "bob".
            try await withTemporaryDirectory { other in
                let b = try AccountStore(
                    path: other.appendingPathComponent("b.sqlite").path, realNameSalt: Array(repeating: 3, count: 32),
                    dataKey: Array(repeating: 4, count: 32), suite: .ed25519, kdf: PasswordKDF(iterations: 1_000))
                _ = try b.create(account("bob"), ca: consortium.cas["org0"]!, suite: .ed25519)
                try submit(env, body: try #require(try b.snapshot(org: "org0", username: "bob")))
            }
            #expect(try await env.replica.syncOnce().applied == 1)
            _ = try env.store.signIn(org: "org0", username: "bob", password: "password-of-bob")
            #expect(try env.store.unpublished().isEmpty)

            // A complaint taken by another node of the org.
            let txid = String(repeating: "ef", count: 32)
            try submit(
                env, kind: "complaint",
                body: .object([
                    "txid": .string(txid), "phone": .string("13687654321"), "phoneHash": .string("h"), "object": .string("o"),
                    "receivedAt": .int(1), "text": .string("蟹是死的"), "textHash": .string("t"),
                ]))
            #expect(try await env.replica.syncOnce().applied == 1)
            #expect(env.complaints.records()[txid]?["phone"]?.stringValue == "13687654321")
            #expect(try env.store.hostedComplaints() == [txid: false])

            // A replica started again over the same files applies nothing twice.
            let again = try HostingReplica(
                node: env.node, admission: Admission(node: env.node, upstream: nil), identity: try consortium.nodeIdentity(),
                org: "org0", hostingKey: Self.hostingKey, accounts: env.store, complaints: env.complaints)
            #expect(try await again.syncOnce() == (0, 0))
        }
    }

    @Test func recordsNotOfThisOrgOrThatDoNotOpenAreNotApplied() async throws {
        try await withReplica { env in
            // One account state, made in a scratch store of another node.
            let scratch = try AccountStore(
                path: env.dir.appendingPathComponent("scratch.sqlite").path, realNameSalt: Array(repeating: 3, count: 32),
                dataKey: Array(repeating: 4, count: 32), suite: .ed25519, kdf: PasswordKDF(iterations: 1_000))
            func snapshot(_ name: String) throws -> JSONValue {
                _ = try scratch.create(account(name), ca: consortium.cas["org0"]!, suite: .ed25519)
                return try #require(try scratch.snapshot(org: "org0", username: name))
            }
            // Sealed under another key (a node of the org that was not given the org's key).
            try submit(env, body: try snapshot("mallory"), key: Array(repeating: 6, count: 32))
            // Published by a node of another org, even with this org's key and context.
            let key1 = SigningKey.generate(.ed25519)
            let cert = try consortium.cas["org1"]!.issue(role: .node, name: "n1", subjectKey: key1, now: Date())
            try submit(env, body: try snapshot("trudy"), signer: SigningIdentity(key: key1, certificate: cert))
            // Opens, but is not a record; an unknown kind; a malformed account state.
            try submit(env, body: .null, raw: Array("13912345678".utf8))
            try submit(env, kind: "shell", body: .object([:]))
            try submit(env, body: .object(["org": .string("org0"), "username": .string("eve"), "version": .int(1)]))
            let (applied, _) = try await env.replica.syncOnce()
            #expect(applied == 0)
            #expect(env.replica.refused == 4)
            #expect(try env.store.accounts(org: "org0").isEmpty)
            // The cursor moved past them: not tried again.
            #expect(try await env.replica.syncOnce().applied == 0 && env.replica.refused == 4)
        }
    }
}
