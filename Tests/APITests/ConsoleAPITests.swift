import API
import Accounts
import ChainCore
import ChainTesting
import CrabTraceContract
import EvidenceContract
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import NIOCore
import Node
import Storage
import Synchronization
import Testing

/// A clock the console tests move by hand (sessions and lock-outs).
final class ConsoleClock: Sendable {
    let value = Mutex<Int64>(Int64(Date().timeIntervalSince1970 * 1000))
    var now: Int64 { value.withLock { $0 } }
    func advance(_ ms: Int64) { value.withLock { $0 += ms } }
}

extension TestClientProtocol {
    /// A console call with a bearer token and a JSON body.
    func console(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: JSONValue? = nil, raw: [UInt8]? = nil)
        async throws -> Reply
    {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let body = raw ?? json.map(\.canonicalBytes)
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) { r in
            let bytes = Array(buffer: r.body)
            let parsed = bytes.isEmpty ? JSONValue.null : try JSONParser().parse(bytes)
            return Reply(status: r.status, json: parsed, headers: r.headers)
        }
    }

    func signIn(_ org: String, _ username: String, _ password: String) async throws -> Reply {
        try await console(
            .post, "/v1/console/signin",
            json: .object(["org": .string(org), "username": .string(username), "password": .string(password)]))
    }
}

/// The console routes on a real solo node with SQLite chain and accounts files.
@Suite struct ConsoleAPITests {
    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: ["org0", "org1", "reg", "assoc"]) }

    static let password = "admin password"

    struct Env: Sendable {
        let node: ChainNode
        let store: AccountStore
        let clock: ConsoleClock
        let client: any TestClientProtocol
    }

    /// Node of org0 with the org0 CA for accounts; admins `root` in org0 and org1, `reggie` (regulator), `ann` (association).
    func withConsole(
        ca: Bool = true, hosted: [String] = [], https: Bool = false, _ body: @Sendable (Env) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            if https {
                config.apiTLSCertificate = "tls/cert.pem"
                config.apiTLSKey = "tls/key.pem"
            }
            let node = try consortium.node(
                in: dir, config: config, contracts: [EvidenceContract(), CrabTraceContract(), WasmContract()])
            let clock = ConsoleClock()
            let store = try AccountStore(
                path: dir.appendingPathComponent("accounts.sqlite").path, realNameSalt: Array(repeating: 1, count: 32),
                dataKey: Array(repeating: 2, count: 32), suite: .ed25519, kdf: PasswordKDF(iterations: 1_000),
                clock: { clock.now })
            for (org, user, role) in [
                ("org0", "root", Role.admin), ("org1", "root", .admin), ("reg", "reggie", .regulator),
                ("assoc", "ann", .association),
            ] {
                _ = try store.create(
                    NewAccount(
                        username: user, name: "N \(user)", idNumber: "ID-\(user)", phone: "1390000000", role: role,
                        password: Self.password), ca: consortium.cas[org]!, suite: .ed25519)
            }
            let api = ChainAPI(
                node: node, maxWait: .seconds(5),
                console: ConsoleAccounts(
                    store: store, ca: ca ? consortium.cas["org0"] : nil, hosted: hosted.compactMap { consortium.cas[$0] }))
            let app = Application(router: api.router())
            try await app.test(.router) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        while !Task.isCancelled {
                            try node.produceBlock()
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    try await body(Env(node: node, store: store, clock: clock, client: client))
                    group.cancelAll()
                }
            }
        }
    }

    func token(_ env: Env, _ org: String, _ user: String, _ password: String = password) async throws -> String {
        let r = try await env.client.signIn(org, user, password)
        #expect(r.status == .ok, "\(r.json)")
        return try #require(r.json["token"]?.stringValue)
    }

    /// Cross-site request forgery: a signed-in browser visiting another site must not be made to
    /// act. A request riding on the session cookie alone must be JSON from the node's own origin.
    @Test func cookieOnlyRequestsMustBeJSONFromTheNodesOwnOrigin() async throws {
        try await withConsole { env in
            let token = try await token(env, "org0", "root")
            func create(_ user: String, headers: [(HTTPField.Name, String)]) async throws -> HTTPResponse.Status {
                var fields = HTTPFields()
                for (k, v) in headers { fields[k] = v }
                return try await env.client.execute(
                    uri: "/v1/console/accounts", method: .post, headers: fields,
                    body: ByteBuffer(bytes: Self.farmBody(user).canonicalBytes)
                ) { $0.status }
            }
            let cookie = "xc_session=\(token)"
            // What a cross-site HTML form can send: text/plain with the cookie.
            #expect(try await create("csrf1", headers: [(.cookie, cookie), (.contentType, "text/plain")]) == .forbidden)
            #expect(try await create("csrf2", headers: [(.cookie, cookie)]) == .forbidden)
            // JSON, but from another origin.
            #expect(
                try await create(
                    "csrf3", headers: [(.cookie, cookie), (.contentType, "application/json"), (.origin, "https://evil.example")])
                    == .forbidden)
            #expect(
                try await create("csrf4", headers: [(.cookie, cookie), (.contentType, "application/json"), (.origin, "null")])
                    == .forbidden)
            // The console's own fetch: JSON, same origin (no Origin header in this in-process client).
            #expect(try await create("fiona", headers: [(.cookie, cookie), (.contentType, "application/json")]) == .created)
            // An API client with the bearer token is not a browser: no such rule.
            #expect(
                try await create("frank", headers: [(.authorization, "Bearer \(token)"), (.contentType, "text/plain")])
                    == .created)
            // Reads are not affected.
            let me = try await env.client.execute(
                uri: "/v1/console/me", method: .get, headers: [.cookie: cookie]
            ) { $0.status }
            #expect(me == .ok)
        }
    }

    @Test func theSessionCookieIsSecureWhenTheNodeServesHTTPS() async throws {
        try await withConsole(https: true) { env in
            let r = try await env.client.signIn("org0", "root", Self.password)
            #expect(r.headers[.setCookie]?.contains("; Secure") == true, "\(r.headers)")
            #expect(r.headers[.setCookie]?.contains("HttpOnly") == true)
        }
        try await withConsole { env in
            let r = try await env.client.signIn("org0", "root", Self.password)
            #expect(r.headers[.setCookie]?.contains("Secure") == false)
        }
    }

    static func farmBody(_ username: String = "fiona") -> JSONValue {
        .object([
            "username": .string(username), "name": .string("王芳"), "idNumber": .string("320500199001019999"),
            "phone": .string("13912345678"), "role": .string("farm"), "password": .string("farm password 1"),
        ])
    }

    @Test func adminCreatesAccountThatSignsTransactions() async throws {
        try await withConsole { env in
            let c = env.client
            let signin = try await c.signIn("org0", "root", Self.password)
            #expect(signin.status == .ok)
            let cookie = try #require(signin.headers[.setCookie])
            #expect(cookie.contains("xc_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            #expect(cookie.contains("Path=/"))
            #expect(signin.json["account"]?["role"]?.stringValue == "admin")
            #expect(signin.json["expiresAt"]?.int64Value != nil)
            let admin = try #require(signin.json["token"]?.stringValue)
            // The cookie works as well as the bearer header.
            var h = HTTPFields()
            h[.cookie] = "other=1; xc_session=\(admin)"
            let me = try await c.execute(uri: "/v1/console/me", method: .get, headers: h, body: nil) { $0.status }
            #expect(me == .ok)

            let created = try await c.console(.post, "/v1/console/accounts", token: admin, json: Self.farmBody())
            #expect(created.status == .created, "\(created.json)")
            #expect(created.json["account"]?["org"]?.stringValue == "org0")
            let realNameTxid = try #require(created.json["realNameTxid"]?.stringValue)
            #expect(
                try await c.console(.post, "/v1/console/accounts", token: admin, json: Self.farmBody()).code == "already_exists")

            let farm = try await token(env, "org0", "fiona", "farm password 1")
            let meFarm = try await c.console(.get, "/v1/console/me", token: farm)
            #expect(meFarm.json["account"]?["username"]?.stringValue == "fiona")
            #expect(meFarm.json["account"]?["name"]?.stringValue == "王芳")
            let tx = try await c.console(
                .post, "/v1/console/tx", token: farm,
                json: .object([
                    "contract": .string("evidence"), "method": .string("put"), "args": Fixtures.evidenceArgs(kind: "pond-log"),
                ]))
            #expect(tx.status == .ok, "\(tx.json)")
            #expect(tx.json["status"]?.stringValue == "committed")
            let txid = try #require(tx.json["txid"]?.stringValue)
            let txHash = try #require(Hash256(hex: txid))
            let stored = try #require(try env.node.store.transaction(txHash))
            let account = try #require(try env.store.account(org: "org0", username: "fiona"))
            #expect(stored.transaction.signerCertificate == (try KeyPEM.certificateDER(fromPEM: account.certificatePEM)))
            // Refusals keep their admission codes.
            let refused = try await c.console(
                .post, "/v1/console/tx", token: farm,
                json: .object(["contract": .string("crab"), "method": .string("open_season"), "args": .object([:])]))
            #expect(refused.status.code == 403 || refused.status.code == 400, "\(refused.json)")

            // The real-name evidence is committed, signed by the account; no phone or ID on chain.
            let rnHash = try #require(Hash256(hex: realNameTxid))
            let rn = try #require(try env.node.store.transaction(rnHash))
            #expect(rn.result.error == nil)
            #expect(rn.transaction.signerCertificate == stored.transaction.signerCertificate)
            let height = try env.node.store.tip()?.height ?? 0
            var bodies = 0
            for hgt in 1...max(height, 1) {
                guard let block = try env.node.store.block(at: hgt) else { continue }
                for id in block.txids {
                    let body = try #require(try env.node.store.transaction(id)).transaction.body
                    bodies += 1
                    for secret in ["13912345678", "320500199001019999", "王芳"] {
                        #expect(Data(body).range(of: Data(secret.utf8)) == nil)
                    }
                }
            }
            #expect(bodies >= 2)

            #expect(try await c.console(.get, "/v1/console/accounts", token: farm).status == .forbidden)
            let list = try await c.console(.get, "/v1/console/accounts", token: admin)
            #expect(list.json["accounts"]?.arrayValue?.count == 2)

            let audit = try await c.console(.get, "/v1/console/audit", token: admin)
            let entries = try #require(audit.json["entries"]?.arrayValue)
            let actions = entries.map {
                "\($0["username"]?.stringValue ?? ""):\($0["action"]?.stringValue ?? ""):\($0["result"]?.stringValue ?? "")"
            }
            #expect(actions.contains("root:signin:ok"))
            #expect(actions.contains("fiona:signin:ok"))
            #expect(actions.contains("root:accounts.create:ok"))
            #expect(actions.contains("fiona:tx:ok"))
            #expect(actions.contains("fiona:accounts.list:forbidden"))
            #expect(try await c.console(.get, "/v1/console/audit", token: farm).status == .forbidden)
            let regAudit = try await c.console(.get, "/v1/console/audit", token: try await token(env, "reg", "reggie"))
            #expect(regAudit.status == .ok)

            #expect(try await c.console(.post, "/v1/console/signout", token: farm).status == .noContent)
            #expect(try await c.console(.get, "/v1/console/me", token: farm).code == "unauthenticated")
        }
    }

    @Test func failedSignInsHoldTheAddressBackAndUnknownNamesAnswerAlike() async throws {
        try await withConsole { env in
            let c = env.client
            for _ in 0..<4 { #expect(try await c.signIn("org0", "root", "wrong password").code == "bad_credentials") }
            let held = try await c.signIn("org0", "root", "wrong password")
            #expect(held.status.code == 429)
            #expect(held.code == "too_many_requests")
            #expect(held.json["retryAfter"]?.int64Value == 900)
            #expect(held.headers[.retryAfter] == "900")
            #expect(try await c.signIn("org0", "root", Self.password).status.code == 429)
            // An unknown name gets the very same answers: nothing tells whether an account exists.
            for _ in 0..<4 { #expect(try await c.signIn("org0", "nobody", "wrong password").code == "bad_credentials") }
            #expect(try await c.signIn("org0", "nobody", "wrong password").status.code == 429)
            env.clock.advance(AccountStore.lockMillis + 1)
            #expect(try await c.signIn("org0", "root", Self.password).status == .ok)
        }
    }

    @Test func suspensionAndSessionExpiry() async throws {
        try await withConsole { env in
            let c = env.client
            let admin = try await token(env, "org0", "root")
            #expect(try await c.console(.post, "/v1/console/accounts", token: admin, json: Self.farmBody()).status == .created)
            let farm = try await token(env, "org0", "fiona", "farm password 1")
            let s = try await c.console(.post, "/v1/console/accounts/fiona/suspend", token: admin)
            #expect(s.json["account"]?["status"]?.stringValue == "suspended")
            #expect(try await c.console(.get, "/v1/console/me", token: farm).status == .unauthorized)
            let refused = try await c.signIn("org0", "fiona", "farm password 1")
            #expect(refused.status == .forbidden && refused.code == "account_suspended")
            #expect(try await c.console(.post, "/v1/console/accounts/fiona/reinstate", token: admin).status == .ok)
            let reset = try await c.console(
                .post, "/v1/console/accounts/fiona/reset", token: admin, json: .object(["password": .string("another pass 2")]))
            #expect(reset.json["keyReplaced"]?.boolValue == true)
            #expect(try await c.signIn("org0", "fiona", "another pass 2").status == .ok)
            // Idle for more than 8 h: the session is gone.
            env.clock.advance(AccountStore.idleMillis + 1)
            #expect(try await c.console(.get, "/v1/console/me", token: admin).code == "unauthenticated")
        }
    }

    @Test func adminsManageOnlyTheirOwnOrg() async throws {
        try await withConsole { env in
            let c = env.client
            let a0 = try await token(env, "org0", "root")
            let a1 = try await token(env, "org1", "root")
            #expect(try await c.console(.post, "/v1/console/accounts", token: a0, json: Self.farmBody()).status == .created)
            #expect(try await c.console(.post, "/v1/console/accounts/fiona/suspend", token: a1).code == "not_found")
            #expect(try env.store.account(org: "org0", username: "fiona")?.status == "active")
            let list1 = try await c.console(.get, "/v1/console/accounts", token: a1)
            #expect(list1.json["accounts"]?.arrayValue?.compactMap { $0["username"]?.stringValue } == ["root"])
            // This node's account CA is org0's: org1's admin cannot create accounts here.
            #expect(
                try await c.console(.post, "/v1/console/accounts", token: a1, json: Self.farmBody("frank")).status == .forbidden)
            let audit1 = try await c.console(.get, "/v1/console/audit", token: a1)
            #expect(audit1.json["entries"]?.arrayValue?.allSatisfy { $0["org"]?.stringValue == "org1" } == true)
        }
    }

    @Test func aHostingNodeIssuesAccountsOfItsHostedMemberOrgsOnly() async throws {
        // The node of org0 also hosts org1 (a member without a node of its own).
        try await withConsole(hosted: ["org1"]) { env in
            let c = env.client
            let a1 = try await token(env, "org1", "root")
            let made = try await c.console(.post, "/v1/console/accounts", token: a1, json: Self.farmBody("frank"))
            #expect(made.status == .created, "\(made.json)")
            #expect(made.json["account"]?["org"]?.stringValue == "org1")
            // The new account's certificate is org1's: its transactions are signed as org1.
            let frank = try await token(env, "org1", "frank", "farm password 1")
            let tx = try await c.console(
                .post, "/v1/console/tx", token: frank,
                json: .object(["contract": .string("evidence"), "method": .string("put"), "args": Fixtures.evidenceArgs()]))
            #expect(tx.json["status"]?.stringValue == "committed", "\(tx.json)")
            let id = try #require(Hash256(hex: tx.json["txid"]?.stringValue ?? ""))
            let stored = try #require(try env.node.store.transaction(id))
            #expect(stored.signerOrg == "org1" && stored.signerSubject == "frank")
        }
        try await withTemporaryDirectory { dir in
            let store = try AccountStore(
                path: dir.appendingPathComponent("a.sqlite").path, realNameSalt: [1], dataKey: Array(repeating: 2, count: 32),
                suite: .ed25519, kdf: PasswordKDF(iterations: 1_000))
            let hostedOnly = ConsoleAccounts(store: store, ca: nil, hosted: [try #require(consortium.cas["org1"])])
            #expect(hostedOnly.ca(for: "org1")?.org == "org1")
            #expect(hostedOnly.ca(for: "org0") == nil)
        }
    }

    /// Issue 12 item 10: the association running the one-stop platform manages the staff
    /// accounts of the member orgs this node hosts (which have no admin here), and only those.
    @Test func theAssociationManagesTheAccountsOfTheMembersItHosts() async throws {
        try await withConsole(hosted: ["org1", "reg"]) { env in
            let c = env.client
            let ann = try await token(env, "assoc", "ann")
            func body(_ user: String, org: String?, role: String = "merchant") -> JSONValue {
                var o = Self.farmBody(user).objectValue ?? [:]
                o["role"] = .string(role)
                if let org { o["org"] = .string(org) }
                return .object(o)
            }
            // Before org1 is a registered member the association manages nothing here.
            #expect(try await c.console(.get, "/v1/console/accounts", token: ann).json["accounts"]?.arrayValue?.isEmpty == true)
            let registered = try await c.console(
                .post, "/v1/console/tx", token: ann,
                json: .object([
                    "contract": .string("crab"), "method": .string("register_member"),
                    "args": .object([
                        "org": .string("org1"), "role": .string("merchant"), "name": .string("蟹庄"),
                        "licence": .string("L-1"),
                    ]),
                ]))
            #expect(registered.json["status"]?.stringValue == "committed", "\(registered.json)")
            let list = try await c.console(.get, "/v1/console/accounts", token: ann)
            #expect(list.status == .ok, "\(list.json)")
            #expect(list.json["accounts"]?.arrayValue?.compactMap { $0["org"]?.stringValue } == ["org1"])
            let made = try await c.console(.post, "/v1/console/accounts", token: ann, json: body("mia", org: "org1"))
            #expect(made.status == .created, "\(made.json)")
            #expect(made.json["account"]?["org"]?.stringValue == "org1")
            let listed = try await c.console(.get, "/v1/console/accounts?org=org1", token: ann)
            #expect(
                Set(listed.json["accounts"]?.arrayValue?.compactMap { $0["username"]?.stringValue } ?? []) == ["root", "mia"])
            // Not the node's own org, not its own, not a hosted org that is no member, not without
            // naming one, never an admin, only the member's registered role.
            for org in ["org0", "assoc", "reg", "nowhere"] {
                #expect(
                    try await c.console(.post, "/v1/console/accounts", token: ann, json: body("x", org: org)).code == "forbidden")
                #expect(try await c.console(.get, "/v1/console/accounts?org=\(org)", token: ann).code == "forbidden")
            }
            #expect(try await c.console(.post, "/v1/console/accounts", token: ann, json: body("x", org: nil)).code == "forbidden")
            #expect(
                try await c.console(.post, "/v1/console/accounts", token: ann, json: body("x", org: "org1", role: "admin")).code
                    == "forbidden")
            #expect(
                try await c.console(.post, "/v1/console/accounts", token: ann, json: body("x", org: "org1", role: "farm")).code
                    == "forbidden")
            // An admin stays within its own org, whatever it names.
            let root = try await token(env, "org0", "root")
            #expect(try await c.console(.get, "/v1/console/accounts?org=org1", token: root).code == "forbidden")
            #expect(
                try await c.console(.post, "/v1/console/accounts", token: root, json: body("y", org: "org1")).code == "forbidden")
            // The new merchant reads its own stock view only; the regulator any merchant's.
            let mia = try await token(env, "org1", "mia", "farm password 1")
            #expect(try await c.console(.get, "/v1/console/stock?season=2026", token: mia).code == "not_found")
            #expect(try await c.console(.get, "/v1/console/stock?season=2026&org=org0", token: mia).code == "forbidden")
            #expect(try await c.console(.get, "/v1/console/stock", token: mia).status == .badRequest)
            #expect(try await c.console(.get, "/v1/console/stock?season=a/b", token: mia).status == .badRequest)
            let reg = try await token(env, "reg", "reggie")
            #expect(try await c.console(.get, "/v1/console/stock?season=2026&org=org1", token: reg).code == "not_found")
            #expect(try await c.console(.get, "/v1/console/stock?season=2026", token: root).code == "forbidden")
            // The member list is public.
            let members = try await c.console(.get, "/v1/crab/members")
            #expect(
                members.status == .ok && members.json["members"]?.arrayValue?.compactMap { $0["org"]?.stringValue } == ["org1"],
                "\(members.json)")
        }
    }

    @Test func oversightReadsAndCodes() async throws {
        try await withConsole { env in
            let c = env.client
            let reg = try await token(env, "reg", "reggie")
            let ann = try await token(env, "assoc", "ann")
            let admin = try await token(env, "org0", "root")
            #expect(try await c.console(.get, "/v1/console/alerts?open=true", token: reg).status == .ok)
            #expect(try await c.console(.get, "/v1/console/complaints", token: ann).status == .ok)
            #expect(try await c.console(.get, "/v1/console/alerts", token: admin).status == .forbidden)
            #expect(try await c.console(.get, "/v1/console/trace?code=nonsense", token: ann).status == .forbidden)
            #expect(try await c.console(.get, "/v1/console/trace?code=nonsense", token: reg).code == "bad_code")
            let codes = try await c.console(
                .post, "/v1/console/codes", token: ann,
                json: .object([
                    "kind": .string("rings"), "gtin": .string("09521234543213"), "from": .int(1), "count": .int(3),
                    "prefix": .string("R"),
                ]))
            #expect(codes.status == .ok, "\(codes.json)")
            #expect(codes.json["svg"]?.arrayValue?.isEmpty == false)
            #expect(codes.json["commission"]?["rings"]?.arrayValue?.count == 3)
            #expect(codes.json["csv"]?.stringValue?.split(separator: "\n").count == 4)
            let coupons = try await c.console(
                .post, "/v1/console/codes", token: ann,
                json: .object(["kind": .string("coupons"), "gcnBase": .string("952123454321"), "from": .int(1), "count": .int(2)])
            )
            #expect(coupons.json["commission"]?["coupons"]?.arrayValue?.count == 2, "\(coupons.json)")
            #expect(
                try await c.console(
                    .post, "/v1/console/codes", token: ann,
                    json: .object([
                        "kind": .string("rings"), "gtin": .string("09521234543213"), "from": .int(1), "count": .int(201),
                    ])
                ).code == "bad_args")
            #expect(try await c.console(.post, "/v1/console/codes", token: reg, json: .object([:])).status == .forbidden)
        }
    }

    @Test func hostileBodiesAre400() async throws {
        try await withConsole { env in
            let c = env.client
            let admin = try await token(env, "org0", "root")
            let huge = Array(repeating: UInt8(ascii: "a"), count: 1 << 20)
            #expect(try await c.console(.post, "/v1/console/signin", raw: huge).status.code == 413)
            for raw in ["", "[]", "{", "{\"org\":1,\"username\":\"root\",\"password\":\"x\"}", "{\"org\":\"org0\"}", "{\"x\":1}"]
            {
                let r = try await c.console(.post, "/v1/console/signin", raw: Array(raw.utf8))
                #expect(r.status == .badRequest, "\(raw): \(r.status)")
            }
            for body: JSONValue in [
                .object([:]), .object(["username": .int(3)]),
                .object([
                    "username": .string("ok_name"), "name": .string("n"), "idNumber": .string("i"), "phone": .string("123"),
                    "role": .string("farm"), "password": .string("long enough pw"),
                ]),
                .object([
                    "username": .string("ok_name"), "name": .string("n"), "idNumber": .string("i"), "phone": .string("12345"),
                    "role": .string("king"), "password": .string("long enough pw"),
                ]),
            ] {
                let r = try await c.console(.post, "/v1/console/accounts", token: admin, json: body)
                #expect(r.status == .badRequest, "\(body): \(r.json)")
            }
            for body: JSONValue in [
                .object([:]), .object(["contract": .string("evidence"), "method": .string("put"), "args": .int(1)]),
            ] {
                #expect(try await c.console(.post, "/v1/console/tx", token: admin, json: body).status == .badRequest)
            }
            #expect(
                try await c.console(.get, "/v1/console/me", token: String(repeating: "x", count: 5000)).status == .unauthorized)
            #expect(try await c.console(.get, "/v1/console/me").code == "unauthenticated")
        }
    }

    /// `POST /v1/console/wasm/query`: a WebAssembly contract's read-only query as the signed-in
    /// account (the probe contract answers who it sees), where the anonymous route sees nobody;
    /// hostile bodies are refused and nothing runs without a session.
    @Test func wasmQueriesRunAsTheSignedInAccount() async throws {
        try await withConsole { env in
            let c = env.client
            let admin = try await token(env, "org0", "root")
            let regulator = try await token(env, "reg", "reggie")
            // org0's admin (a deployer by default) uploads the probe module in two parts (a console
            // body is at most 128 KiB) and deploys it.
            let code = try ContractFixtures.module("probe")
            let hash = Hash256.sha256(code).hex
            let half = 64 * 1024
            let parts = [Array(code[..<half]), Array(code[half...])]
            var steps: [(String, JSONValue)] = parts.enumerated().map { i, part in
                (
                    "upload",
                    .object([
                        "sha256": .string(hash), "part": .int(Int64(i)), "parts": .int(2),
                        "data": .string(Data(part).base64EncodedString()),
                    ])
                )
            }
            steps.append(("deploy", .object(["name": .string("probe"), "code": .string(hash)])))
            for (method, args) in steps {
                let tx = try await c.console(
                    .post, "/v1/console/tx", token: admin,
                    json: .object(["contract": .string("wasm"), "method": .string(method), "args": args]))
                #expect(tx.json["status"]?.stringValue == "committed", "\(method): \(tx.json)")
            }
            let context = JSONValue.object(["contract": .string("probe"), "method": .string("context")])
            let signed = try await c.console(.post, "/v1/console/wasm/query", token: regulator, json: context)
            #expect(signed.status == .ok, "\(signed.json)")
            let seen = signed.json["result"]
            #expect(seen?["org"]?.stringValue == "reg" && seen?["role"]?.stringValue == "regulator", "\(signed.json)")
            #expect(seen?["fingerprint"]?.stringValue?.utf8.count == 64 && seen?["tx"]?.stringValue == "")
            #expect((signed.json["fuelUsed"]?.int64Value ?? 0) > 0)
            // The anonymous route sees no signer.
            let anonymous = try await c.console(
                .post, "/v1/wasm/contracts/probe/query", json: .object(["method": .string("context")]))
            #expect(anonymous.status == .ok && anonymous.json["result"]?["org"]?.stringValue == "", "\(anonymous.json)")
            // The audit log has the signed query.
            let audit = try await c.console(.get, "/v1/console/audit?limit=100", token: regulator)
            #expect(audit.json.canonicalString.contains("wasm.query"), "\(audit.json)")

            // Hostile: no session, bad bodies, unknown contract, a contract's own failure, too large.
            #expect(try await c.console(.post, "/v1/console/wasm/query", json: context).status == .unauthorized)
            for body: JSONValue in [
                .object([:]), .object(["contract": .string("probe")]),
                .object(["contract": .string("probe"), "method": .string("context"), "args": .int(1)]),
                .object(["contract": .string("probe"), "method": .string("context"), "extra": .int(1)]),
                .object(["contract": .int(1), "method": .string("context")]),
                .object(["contract": .string("probe"), "method": .string(String(repeating: "m", count: 129))]),
            ] {
                let r = try await c.console(.post, "/v1/console/wasm/query", token: regulator, json: body)
                #expect(r.status == .badRequest, "\(body): \(r.json)")
            }
            for raw in ["", "[]", "{", "{\"contract\":\"probe\",\"method\":\"context\",\"args\":{"] {
                let r = try await c.console(.post, "/v1/console/wasm/query", token: regulator, raw: Array(raw.utf8))
                #expect(r.status == .badRequest, "\(raw): \(r.status)")
            }
            let unknown = try await c.console(
                .post, "/v1/console/wasm/query", token: regulator,
                json: .object(["contract": .string("nope"), "method": .string("context")]))
            #expect(unknown.code == "unknown_contract", "\(unknown.json)")
            let fails = try await c.console(
                .post, "/v1/console/wasm/query", token: regulator,
                json: .object([
                    "contract": .string("probe"), "method": .string("put"),
                    "args": .object(["key": .string("k"), "value": .string("v")]),
                ]))
            #expect(fails.code == "read_only", "\(fails.json)")
            let huge =
                Array("{\"contract\":\"probe\",\"method\":\"echo\",\"args\":{\"x\":\"".utf8)
                + Array(repeating: UInt8(ascii: "a"), count: 300 * 1024) + Array("\"}}".utf8)
            #expect(try await c.console(.post, "/v1/console/wasm/query", token: regulator, raw: huge).status.code == 413)
        }
    }

    @Test func withoutCAOrStore() async throws {
        try await withConsole(ca: false) { env in
            let admin = try await token(env, "org0", "root")
            let r = try await env.client.console(.post, "/v1/console/accounts", token: admin, json: Self.farmBody())
            #expect(r.status == .serviceUnavailable && r.code == "accounts_unavailable")
        }
        try await withTemporaryDirectory { dir in
            let node = try consortium.node(in: dir)
            try await Application(router: ChainAPI(node: node).router()).test(.router) { client in
                let r = try await client.signIn("org0", "root", Self.password)
                #expect(r.code == "accounts_unavailable")
            }
        }
    }
}
