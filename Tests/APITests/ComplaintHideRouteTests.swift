import API
import Accounts
import ChainCore
import ChainTesting
import EvidenceContract
import Foundation
import Hummingbird
import HummingbirdTesting
import Identity
import Node
import Testing

/// `POST /v1/console/complaints/{txid}/hide` on a real node with real account and complaint
/// files: the association and the regulator hide (audited, with the reason); other roles cannot;
/// hostile parameters get 400 with a code (the desk view of a hidden text: HostingProcessTests).
@Suite struct ComplaintHideRouteTests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "reg", "assoc"]) }
    static let password = "console-password-1"
    static let txid = String(repeating: "a1", count: 32)

    @Test func theDeskHidesAComplaintsTextAndOthersCannot() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            let node = try consortium.node(in: dir, config: config, contracts: [EvidenceContract()])
            let store = try AccountStore(
                path: dir.appendingPathComponent("accounts.sqlite").path, realNameSalt: Array(repeating: 1, count: 32),
                dataKey: Array(repeating: 2, count: 32), suite: .ed25519, kdf: PasswordKDF(iterations: 1_000))
            for (org, user, role) in [
                ("org0", "root", Role.admin), ("reg", "reggie", .regulator), ("assoc", "ann", .association),
            ] {
                _ = try store.create(
                    NewAccount(
                        username: user, name: "N \(user)", idNumber: "ID-\(user)", phone: "1390000000", role: role,
                        password: Self.password), ca: consortium.cas[org]!, suite: .ed25519)
            }
            let complaints = try OffchainComplaintsTests.open(dir)
            try complaints.append(
                txid: Self.txid, phone: "13687654321", phoneHash: "h", object: "o", city: nil, receivedAt: 1, text: "蟹是死的",
                textHash: "t")
            let api = ChainAPI(
                node: node, maxWait: .seconds(5),
                gateway: CrabGateway(identity: try consortium.nodeIdentity(), complaints: complaints),
                console: ConsoleAccounts(store: store, ca: consortium.cas["org0"]))
            let app = Application(router: api.router())
            try await app.test(.router) { client in
                func token(_ org: String, _ user: String) async throws -> String {
                    try #require(try await client.signIn(org, user, Self.password).json["token"]?.stringValue)
                }
                let (root, reggie, ann) = (
                    try await token("org0", "root"), try await token("reg", "reggie"), try await token("assoc", "ann")
                )
                let path = "/v1/console/complaints/\(Self.txid)/hide"
                let reason = JSONValue.object(["reason": .string("含身份证号")])
                // Not signed in; another role.
                #expect(try await client.console(.post, path, json: reason).status == .unauthorized)
                let admin = try await client.console(.post, path, token: root, json: reason)
                #expect(admin.status == .forbidden && admin.json["error"]?["code"]?.stringValue == "forbidden")
                // Hostile parameters.
                let bad: [(String, JSONValue?, String)] = [
                    ("/v1/console/complaints/\(Self.txid.uppercased())/hide", reason, "invalid_parameter"),
                    ("/v1/console/complaints/..%2F..%2Fetc/hide", reason, "invalid_parameter"),
                    (path, .object([:]), "bad_args"),
                    (path, .object(["reason": .string("   ")]), "bad_args"),
                    (path, .object(["reason": .string(String(repeating: "长", count: 201))]), "bad_args"),
                    (path, .object(["reason": .string("a\u{0}b")]), "bad_args"),
                    (path, .object(["reason": .int(3)]), "bad_args"),
                    (path, .object(["reason": .string("r"), "text": .string("x")]), "malformed"),
                ]
                for (uri, body, code) in bad {
                    let r = try await client.console(.post, uri, token: reggie, json: body)
                    #expect(
                        r.status == .badRequest && r.json["error"]?["code"]?.stringValue == code,
                        "\(uri) \(body?.canonicalString ?? "")")
                }
                let unknown = try await client.console(
                    .post, "/v1/console/complaints/\(String(repeating: "b2", count: 32))/hide", token: ann, json: reason)
                #expect(unknown.status == .notFound)
                #expect(complaints.records()[Self.txid]?["text"]?.stringValue == "蟹是死的")

                // The association hides it; hiding again says so.
                let hid = try await client.console(.post, path, token: ann, json: reason)
                #expect(hid.status == .ok && hid.json["alreadyHidden"] == .bool(false), "\(hid.json)")
                let again = try await client.console(.post, path, token: reggie, json: reason)
                #expect(again.status == .ok && again.json["alreadyHidden"] == .bool(true))
                #expect(complaints.records()[Self.txid]?["hiddenBy"]?.stringValue == "assoc/ann")
                // Audited with the reason, refusals included.
                let audit = try store.auditLog.entries(org: nil, after: 0, limit: 100).filter { $0.action == "complaint.hide" }
                #expect(audit.contains { $0.username == "ann" && $0.result == "ok" && $0.detail.contains("含身份证号") })
                #expect(audit.contains { $0.username == "root" && $0.result == "forbidden" })
            }
        }
    }
}
