import ChainClient
import ChainCore
import ChainTesting
import Foundation
import Node
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 12, item 7: the one-stop platform does not depend on one node. Four validators and an
/// observer of org0 (a second node of the hosting org): an account made on node 0 signs in on
/// the observer and signs a transaction there with node 0 killed; a complaint taken on node 0 has
/// its contact on the observer's desk; a password reset and a suspension made on one node hold on
/// the other (node 0 catching up after its restart); the desk hides a complaint's text (another
/// role cannot) on every node; no phone or ID number reaches the chain's files in any spelling.
@Suite(.serialized) struct HostingProcessTests {
    let helper = MultiValidatorTests()
    static let phone = "13912345678"
    static let idNumber = "32050019900101123X"
    static let complaintPhone = "13687654321"

    struct Console {
        let base: URL
        func call(_ method: String, _ path: String, _ body: JSONValue? = nil, token: String? = nil) async throws -> (
            Int, JSONValue
        ) {
            let client = try ChainClient(base)
            var headers: [(String, String)] = []
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            let reply =
                method == "GET"
                ? try await client.fetch(path, headers: headers)
                : try await client.post(path, body: (body ?? .object([:])).canonicalBytes, headers: headers)
            return (reply.status, (try? JSONParser().parse(reply.body)) ?? .null)
        }
        func signIn(_ user: String, _ password: String) async throws -> (Int, JSONValue) {
            try await call(
                "POST", "/v1/console/signin",
                .object(["org": .string("org0"), "username": .string(user), "password": .string(password)]))
        }
        func token(_ user: String, _ password: String) async throws -> String {
            let (code, json) = try await signIn(user, password)
            guard code == 200, let t = json["token"]?.stringValue else {
                throw ChainError(.unauthenticated, "sign-in of \(user) at \(base): \(code) \(json.canonicalString)")
            }
            return t
        }
    }

    static func height(_ url: URL) async throws -> Int64 {
        try await HTTP.get(url.appendingPathComponent("v1/status")).1["height"]?.int64Value ?? -1
    }

    /// Waits until what `sources` published has had time to commit and reach `target`: a second
    /// for the change to be published, then `target` two blocks past the sources' height, then a
    /// few replication rounds (200 ms each).
    func settle(_ sources: [URL], _ target: URL) async throws {
        try await Task.sleep(for: .seconds(1))
        var h: Int64 = 0
        for s in sources { h = max(h, (try? await Self.height(s)) ?? 0) }
        _ = try await helper.waitUntil(.seconds(60)) { try await Self.height(target) >= h + 2 }
        try await Task.sleep(for: .milliseconds(800))
    }

    /// Signs in on `console` once `sources`' changes reached it, trying at most 3 times (the
    /// sign-in throttle holds an address back after 5 failures).
    func signInWhenReplicated(
        _ console: Console, _ sources: [URL], _ user: String, _ password: String
    ) async throws -> (Int, JSONValue) {
        var last: (Int, JSONValue) = (0, .null)
        for _ in 0..<3 {
            try await settle(sources, console.base)
            last = try await console.signIn(user, password)
            if last.0 != 401 { return last }
        }
        return last
    }

    @Test func accountsAndComplaintContactsLiveOnEveryNodeOfTheHostingOrg() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "hosting-test", "--base-port",
                String(base), "--observers", "1",
            ])
            #expect(made.status == 0, "\(made.output)")
            try quickenConsensus(dir, validators: 4)
            let observerHome = dir.appendingPathComponent("observers/0")
            for home in [dir.appendingPathComponent("nodes/0"), observerHome] {
                let url = home.appendingPathComponent("config.json")
                var config = try NodeConfig.load(from: url)
                config.hostingSyncIntervalMs = 200
                try config.write(to: url)
            }
            // The org's hosting key is the same file on both of its nodes, and no other org's.
            let key0 = try Data(contentsOf: dir.appendingPathComponent("nodes/0/hosting-key"))
            #expect(try Data(contentsOf: observerHome.appendingPathComponent("hosting-key")) == key0)
            #expect(try Data(contentsOf: dir.appendingPathComponent("nodes/1/hosting-key")) != key0)
            // The org's first admin, made offline on node 0: published when node 0 starts.
            let admin = try await XiangChainBinary.run([
                "account", "create", "--home", dir.appendingPathComponent("nodes/0").path, "--username", "admin0", "--role",
                "admin", "--name", "管理员", "--id-number", "320500197001010011", "--phone", "13800000011", "--password",
                "admin-password-1",
            ])
            #expect(admin.status == 0, "\(admin.output)")

            let homes = (0..<4).map { dir.appendingPathComponent("nodes/\($0)") }
            var nodes = try (0..<4).map { try NodeProcess(home: homes[$0], port: base + $0) }
            for n in nodes { try await n.waitUntilReady() }
            let observerPort = freeLocalPort()
            let observer = try NodeProcess(home: observerHome, port: observerPort)
            try await observer.waitUntilReady()
            let c0 = Console(base: nodes[0].baseURL)
            let co = Console(base: observer.baseURL)

            // On node 0: the admin makes a staff account; a consumer complains.
            let adminToken = try await c0.token("admin0", "admin-password-1")
            let (created, createdJSON) = try await c0.call(
                "POST", "/v1/console/accounts",
                .object([
                    "username": .string("clerk"), "name": .string("王小明"), "idNumber": .string(Self.idNumber),
                    "phone": .string(Self.phone), "role": .string("association"), "password": .string("clerk-password-1"),
                ]), token: adminToken)
            #expect(created == 200 || created == 201, "\(createdJSON.canonicalString)")
            let (complained, complaint) = try await c0.call(
                "POST", "/v1/complaints",
                .object([
                    "code": .string("(01)09521234543213(21)YC2600011"), "phone": .string(Self.complaintPhone),
                    "text": .string("蟹是死的，身份证 \(Self.idNumber)，请回电"), "city": .string("上海"),
                ]))
            #expect(complained == 202, "\(complaint.canonicalString)")
            let complaintTxid = try #require(complaint["txid"]?.stringValue)

            // The observer (the org's other node) gets both through the chain.
            let first = try await signInWhenReplicated(co, [nodes[0].baseURL], "clerk", "clerk-password-1")
            #expect(first.0 == 200, "\(first.1.canonicalString) \(observer.logTail())")

            // Node 0 down: the clerk signs in on the observer and signs a transaction there.
            #expect(nodes[0].stop(signal: SIGKILL) != 0 || true)
            let clerkToken = try await co.token("clerk", "clerk-password-1")
            let hash = Hash256.sha256(Array("hosting-test \(UUID())".utf8)).hex
            let (txCode, tx) = try await co.call(
                "POST", "/v1/console/tx",
                .object([
                    "contract": .string("evidence"), "method": .string("put"),
                    "args": .object(["hash": .string(hash), "kind": .string("hosting-test")]),
                ]), token: clerkToken)
            #expect(txCode == 200 && tx["status"]?.stringValue == "committed", "\(txCode) \(tx.canonicalString)")

            // The desk (a regulator account made on the observer) reads the complaint's contact there.
            let adminOnObserver = try await co.token("admin0", "admin-password-1")
            let (deskMade, deskJSON) = try await co.call(
                "POST", "/v1/console/accounts",
                .object([
                    "username": .string("desk"), "name": .string("李监管"), "idNumber": .string("320500198001010022"),
                    "phone": .string("13800000022"), "role": .string("regulator"), "password": .string("desk-password-1"),
                ]), token: adminOnObserver)
            #expect(deskMade == 200 || deskMade == 201, "\(deskJSON.canonicalString)")
            let deskToken = try await co.token("desk", "desk-password-1")
            func complaintOn(_ console: Console, _ token: String) async throws -> JSONValue? {
                let (_, list) = try await console.call("GET", "/v1/console/complaints", token: token)
                return list["complaints"]?.arrayValue?.first { $0["txid"]?.stringValue == complaintTxid }
            }
            let seen = try #require(try await complaintOn(co, deskToken))
            #expect(seen["contactPhone"]?.stringValue == Self.complaintPhone, "\(seen.canonicalString)")
            #expect(seen["text"]?.stringValue?.contains("蟹是死的") == true)

            // Hiding the text: not for an admin; the desk can, with a reason; the hash stays.
            let (refused, refusal) = try await co.call(
                "POST", "/v1/console/complaints/\(complaintTxid)/hide", .object(["reason": .string("含身份证号")]),
                token: adminOnObserver)
            #expect(refused == 403 && refusal["error"]?["code"]?.stringValue == "forbidden", "\(refusal.canonicalString)")
            let (noReason, _) = try await co.call(
                "POST", "/v1/console/complaints/\(complaintTxid)/hide", .object([:]), token: deskToken)
            #expect(noReason == 400)
            let (hid, hidden) = try await co.call(
                "POST", "/v1/console/complaints/\(complaintTxid)/hide", .object(["reason": .string("含身份证号")]),
                token: deskToken)
            #expect(hid == 200 && hidden["textHidden"] == .bool(true), "\(hidden.canonicalString)")
            let after = try #require(try await complaintOn(co, deskToken))
            #expect(after["text"] == nil && after["textHidden"] == .bool(true) && after["textHash"]?.stringValue?.count == 64)
            #expect(after["contactPhone"]?.stringValue == Self.complaintPhone)

            // A password reset made on the observer while node 0 is down.
            let (reset, resetJSON) = try await co.call(
                "POST", "/v1/console/accounts/clerk/reset", .object(["password": .string("clerk-password-2")]),
                token: adminOnObserver)
            #expect(reset == 200, "\(resetJSON.canonicalString)")

            // Node 0 back: it catches up, and holds the new password, the desk account and the hidden text.
            nodes[0] = try NodeProcess(home: homes[0], port: base)
            try await nodes[0].waitUntilReady()
            let back = try await signInWhenReplicated(c0, [observer.baseURL], "clerk", "clerk-password-2")
            #expect(back.0 == 200, "\(back.1.canonicalString) \(nodes[0].logTail())")
            let deskOn0 = try await c0.token("desk", "desk-password-1")
            #expect(try await complaintOn(c0, deskOn0)?["textHidden"] == .bool(true))
            #expect(try await c0.signIn("clerk", "clerk-password-1").0 == 401)

            // A suspension made on node 0 holds on the observer.
            let adminAgain = try await c0.token("admin0", "admin-password-1")
            let (suspended, suspendedJSON) = try await c0.call(
                "POST", "/v1/console/accounts/clerk/suspend", token: adminAgain)
            #expect(suspended == 200, "\(suspendedJSON.canonicalString)")
            #expect(
                try await helper.waitUntil(.seconds(60)) {
                    let (code, json) = try await co.signIn("clerk", "clerk-password-2")
                    return code == 403 && json["error"]?["code"]?.stringValue == "account_suspended"
                }, "\(observer.logTail())")

            // What went on chain: ciphertext. The public view of a hosting record shows no personal data.
            let (_, ev) = try await HTTP.get(observer.baseURL.appendingPathComponent("v1/txs/\(complaintTxid)"))
            #expect(!ev.canonicalString.contains(Self.complaintPhone))

            #expect(observer.stop(signal: SIGTERM) == 0)
            for n in nodes { #expect(n.stop(signal: SIGTERM) == 0) }

            // No phone or ID number in any spelling in the chain's files of any node.
            let spellings =
                Self.spellings(Self.phone) + Self.spellings(Self.complaintPhone) + Self.spellings(Self.idNumber)
                + Self.spellings("320500197001010011")
            var files: [URL] = []
            for home in homes + [observerHome] {
                let data = home.appendingPathComponent("data")
                for name in try FileManager.default.contentsOfDirectory(atPath: data.path)
                where !name.hasPrefix("accounts.sqlite") && !name.hasPrefix("offchain-complaints") {
                    files.append(data.appendingPathComponent(name))
                }
            }
            #expect(files.contains { $0.lastPathComponent.hasSuffix(".sqlite") }, "\(files)")
            for file in files {
                let bytes = try Data(contentsOf: file)
                for s in spellings {
                    #expect(bytes.range(of: Data(s.utf8)) == nil, "\(file.path) holds \(s)")
                    #expect(bytes.range(of: Data(s.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] })) == nil)
                }
            }
        }
    }

    /// A phone or ID number as people write it: plain, grouped with spaces or dashes, with +86,
    /// in full-width digits, lower-case x.
    static func spellings(_ s: String) -> [String] {
        var out = [s, s.lowercased()]
        if s.count == 11 {
            let a = Array(s)
            let (p1, p2, p3) = (String(a[0..<3]), String(a[3..<7]), String(a[7...]))
            out += ["\(p1) \(p2) \(p3)", "\(p1)-\(p2)-\(p3)", "+86\(s)", "+86 \(p1) \(p2) \(p3)"]
        }
        out.append(
            String(
                String.UnicodeScalarView(
                    s.unicodeScalars.map { $0.value >= 0x30 && $0.value <= 0x39 ? Unicode.Scalar($0.value + 0xFEE0)! : $0 })))
        return out
    }
}
