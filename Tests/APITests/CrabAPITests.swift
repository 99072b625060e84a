import API
import ChainCore
import ChainTesting
import CrabTraceContract
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import Logging
import NIOCore
import Node
import NodeRuntime
import Storage
import Testing

/// The crab routes on a real solo node (SQLite in a temporary directory), with a season set up
/// through signed transactions of association, farm, lab, merchant, logistics and regulator.
@Suite struct CrabAPITests {
    static let orgs = ["assoc", "farmA", "merch", "lab", "logi", "reg"]
    static let gtin = "09521234543213"
    static let day: Int64 = 86_400_000
    static let ssccA = "106141411234567897"
    static let ssccB = GS1Key.appendingCheckDigit("10614141123456790") ?? ""
    static let chain = "test-chain"

    let consortium: TestConsortium
    init() throws { consortium = try TestConsortium(orgs: Self.orgs) }

    /// Codes made for the season: rings R0001–R0010, coupons 1–2.
    struct Season: Sendable {
        let rings: [GeneratedCode]
        let coupons: [GeneratedCode]
        func ring(_ n: Int) -> GeneratedCode { rings[n - 1] }
    }

    func withCrabNode(
        gateway: Bool = true, season: Bool = true, configure: @Sendable (inout NodeConfig) -> Void = { _ in },
        _ body: @Sendable (ChainNode, any TestClientProtocol, Season?, URL) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            configure(&config)
            let node = try consortium.node(in: dir, config: config, contracts: [CrabTraceContract()])
            let gw =
                gateway
                ? CrabGateway(
                    identity: try consortium.nodeIdentity(),
                    complaints: try OffchainComplaints(home: dir, suite: consortium.suite)) : nil
            let s = season ? try setUpSeason(node) : nil
            let app = Application(router: ChainAPI(node: node, maxWait: .seconds(5), gateway: gw).router())
            try await app.test(.router) { client in try await body(node, client, s, dir) }
        }
    }

    func identity(_ role: Role, _ org: String) throws -> SigningIdentity {
        try consortium.identity(role, org: org, name: "\(role.rawValue)-\(org)")
    }

    /// Submits one signed crab transaction, commits it in its own block and expects success.
    @discardableResult
    func step(
        _ node: ChainNode, _ role: Role, _ org: String, _ call: ContractCall, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let tx = try identity(role, org).transaction(chain: Self.chain, call: call)
        try node.submit(tx)
        try node.produceBlock()
        let stored = try #require(try node.store.transaction(tx.id), sourceLocation: sourceLocation)
        #expect(
            stored.result.error == nil, "\(call.method): \(stored.result.error?.description ?? "")",
            sourceLocation: sourceLocation)
        return tx.txid
    }

    /// Members farmA, merch, lab, logi; season 2026 open now; rings 1–8 in lot L1 and 9–10 in lot
    /// L2 tagged by farmA and inspected; box A (rings 1–4) shipped to merch via logi; coupons 1–2
    /// (4 crabs of 3.0 liang); coupon 1 redeemed against box A, shipped to the consumer via logi;
    /// lot L2 recalled by the regulator.
    func setUpSeason(_ node: ChainNode) throws -> Season {
        let now = Fixtures.now
        for (org, role) in [("farmA", CrabCall.MemberRole.farm), ("merch", .merchant), ("lab", .lab), ("logi", .logistics)] {
            try step(
                node, .association, "assoc",
                CrabCall.registerMember(
                    org: org, role: role, name: "\(org) Co.", licence: "L-\(org)", areaMu: role == .farm ? 1 : nil,
                    zone: role == .farm ? "lake-east" : nil))
        }
        try step(
            node, .association, "assoc",
            CrabCall.openSeason(
                season: "2026", opensAt: now - Self.day, closesAt: now + 90 * Self.day, capPerMu: 20, couponValidityDays: 60,
                sizes: [LiangSize(tenths: 30)], maxScans: 5, scanWindowHours: 24, lateScanDays: 30, shipWithinDays: 3))
        var rng = SystemRandomNumberGenerator()
        let generator = CodeGenerator(resolver: "id.xiangchain.example")
        let rings = try generator.rings(gtin: Self.gtin, serials: 1...10, prefix: "R", width: 4, using: &rng)
        let serials = rings.map { $0.key.serial ?? "" }
        try step(
            node, .association, "assoc", CrabCall.commissionRings(gtin: Self.gtin, rings: rings.map(CrabCall.Ring.init)))
        try step(
            node, .association, "assoc",
            CrabCall.allocateRings(org: "farmA", season: "2026", gtin: Self.gtin, serials: serials))
        for (lot, range) in [("L1", 0..<8), ("L2", 8..<10)] {
            try step(
                node, .farm, "farmA",
                CrabCall.tagHarvest(
                    season: "2026", gtin: Self.gtin, lot: lot, pond: "P7", zone: "lake-east", harvestedAt: Fixtures.now - 1000,
                    rings: serials[range].map { CrabCall.TaggedRing(serial: $0, sex: .male, weightG: 210) }))
            try step(
                node, .lab, "lab",
                CrabCall.inspectLot(gtin: Self.gtin, lot: lot, result: .pass, reportHash: Fixtures.randomHash()))
        }
        // Two boxes of 4 reach the shop: its coupons may promise the 8 inspected crabs it holds.
        for (sscc, range) in [(Self.ssccA, 0..<4), (Self.ssccB, 4..<8)] {
            try step(node, .farm, "farmA", CrabCall.packBox(sscc: sscc, gtin: Self.gtin, serials: Array(serials[range])))
            try step(node, .farm, "farmA", CrabCall.ship(sscc: sscc, to: .member("merch"), carrier: "logi"))
            try step(node, .logistics, "logi", CrabCall.handOver(sscc: sscc))
            try step(node, .merchant, "merch", CrabCall.receive(sscc: sscc))
        }
        try step(node, .association, "assoc", CrabCall.grantQuota(season: "2026", org: "merch", crabs: 100))
        let coupons = try generator.coupons(base12: "952123400001", serials: 1...2, using: &rng)
        try step(
            node, .merchant, "merch",
            CrabCall.issueCoupons(
                season: "2026", coupons: coupons.map(CrabCall.Coupon.init), sizeLiang: LiangSize(tenths: 30),
                crabsPerCoupon: 4))
        let gcn1 = coupons[0].key.gcnValue ?? ""
        try step(
            node, .consumer, "assoc",
            CrabCall.bookRedemption(
                gcn: gcn1, secretHash: coupons[0].secretHash, phoneHash: Fixtures.randomHash(), city: "Suzhou"))
        try step(node, .merchant, "merch", CrabCall.redeem(gcn: gcn1, sscc: Self.ssccA))
        try step(node, .merchant, "merch", CrabCall.ship(sscc: Self.ssccA, to: .consumer, carrier: "logi"))
        try step(node, .logistics, "logi", CrabCall.receive(sscc: Self.ssccA))
        try step(
            node, .regulator, "reg",
            CrabCall.recall(.lot(gtin: Self.gtin, lot: "L2"), reason: "residue found in a retest"))
        return Season(rings: rings, coupons: coupons)
    }

    static func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }

    func verify(_ client: any TestClientProtocol, _ code: String, city: String = "Suzhou", device: String? = nil)
        async throws -> Reply
    {
        try await client.call(
            .get, "/v1/verify?code=\(Self.q(code))&city=\(Self.q(city))" + (device.map { "&device=\($0)" } ?? ""))
    }

    /// A GET signed as `identity` (or unsigned when nil), with the timestamp and target that are signed.
    func signedGet(
        _ client: any TestClientProtocol, _ uri: String, as identity: SigningIdentity?, timestamp: Int64 = Fixtures.now,
        signedTarget: String? = nil, chain: String = "test-chain", node: String = "node0", nonce: String = UUID().uuidString
    ) async throws -> Reply {
        let headers =
            try identity.map {
                try RequestAuthenticator.headers(
                    signing: $0, chain: chain, node: node, method: "GET", target: signedTarget ?? uri, timestamp: timestamp,
                    nonce: nonce)
            } ?? [:]
        return try await client.execute(uri: uri, method: .get, headers: headers, body: nil) { r in
            let bytes = Array(buffer: r.body)
            return Reply(
                status: r.status, json: bytes.isEmpty ? JSONValue.null : try JSONParser().parse(bytes), headers: r.headers)
        }
    }

    // MARK: verify

    @Test func aGenuineRingVerifiesWithItsFactsAndItsScanIsRecorded() async throws {
        try await withCrabNode { node, client, season, _ in
            let ring = try #require(season).ring(1)
            let r = try await verify(client, ring.uri)
            #expect(r.status == .ok, "\(r.json.canonicalString)")
            #expect(r.json["status"]?.stringValue == "genuine", "\(r.json.canonicalString)")
            #expect(r.json["object"]?.stringValue == ring.key.canonical && r.json["kind"]?.stringValue == "sgtin")
            let d = try #require(r.json["details"])
            #expect(d["farm"]?["org"]?.stringValue == "farmA" && d["farm"]?["name"]?.stringValue == "farmA Co.")
            #expect(d["zone"]?.stringValue == "lake-east" && d["pond"]?.stringValue == "P7")
            #expect(d["harvestedAt"]?.int64Value != nil)
            #expect(d["inspection"]?["result"]?.stringValue == "pass" && d["inspection"]?["lab"] != nil)
            #expect(d["merchant"]?["org"]?.stringValue == "merch")
            // The verdict counts this check: the first.
            #expect(d["scans"]?.int64Value == 1 && r.json["scansBefore"]?.int64Value == 0)
            #expect(d["firstScanCity"]?.stringValue == "Suzhou")
            let txid = try #require(r.json["scanRecorded"]?["txid"]?.stringValue)
            #expect(r.json["scanRecorded"]?["city"]?.stringValue == "Suzhou")
            // Pending is said plainly: not durable until committed.
            #expect(r.json["scanRecorded"]?["status"]?.stringValue == "pending")
            #expect(r.json["scanRecorded"]?["note"]?.stringValue?.contains("lost if the node stops") == true)
            #expect(node.mempool.contains(try #require(Hash256(hex: txid))))

            try node.produceBlock()
            let id = try #require(Hash256(hex: txid))
            let stored = try #require(try node.store.transaction(id))
            #expect(stored.result.error == nil && stored.method == "scan" && stored.signerRole == "node")
            // The secret never reached the chain.
            #expect(!String(decoding: stored.transaction.body, as: UTF8.self).contains(ring.secret))

            // The short code works too, and the committed scan is counted.
            let again = try await verify(client, ring.shortCode)
            #expect(again.json["status"]?.stringValue == "genuine")
            #expect(again.json["details"]?["scans"]?.int64Value == 2 && again.json["scansBefore"]?.int64Value == 1)
            #expect(again.json["details"]?["firstScanAt"]?.int64Value != nil)
        }
    }

    @Test func forgedWrongSecretRedeemedRecalledAndTwoCitiesGetTheirVerdicts() async throws {
        try await withCrabNode { node, client, season, _ in
            let s = try #require(season)
            func status(_ code: String, city: String = "Suzhou", device: String? = nil) async throws -> (String?, [String]) {
                let r = try await verify(client, code, city: city, device: device)
                #expect(r.status == .ok, "\(r.json.canonicalString)")
                try node.produceBlock()
                return (r.json["status"]?.stringValue, r.json["reasons"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            }
            let forged = DigitalLink.uri(.sgtin(gtin: Self.gtin, serial: "R0999"), resolver: "fake.example", secret: "K7Q2M9XZ")
            #expect(try await status(forged) == ("unknown", ["never_issued"]))
            let wrong = DigitalLink.uri(s.ring(2).key, resolver: "id.xiangchain.example", secret: "ZZZZ9999")
            let w = try await verify(client, wrong)
            #expect(w.json["status"]?.stringValue == "unknown" && w.json["reasons"] == .array([.string("secret_mismatch")]))
            #expect(w.json["details"] == .object([:]))
            try node.produceBlock()
            #expect(try await status(s.coupons[0].uri).0 == "redeemed")
            #expect(try await status(s.coupons[1].uri).0 == "genuine")
            #expect(try await status(s.ring(9).uri).0 == "recalled")
            #expect(try await status(s.ring(5).uri, city: "Suzhou", device: "phoneA").0 == "genuine")
            // The same phone in another city is its buyer travelling.
            #expect(try await status(s.ring(5).uri, city: "Shanghai", device: "phoneA").0 == "genuine")
            // Another phone in Beijing the same day: this very check is told two_cities.
            let (verdict, reasons) = try await status(s.ring(5).uri, city: "Beijing", device: "phoneB")
            #expect(verdict == "suspicious" && reasons.contains("two_cities"), "\(reasons)")
            // Every scan went on chain and committed.
            #expect(node.mempool.count == 0)
        }
    }

    /// Issue 12, items 1 and 2 through the public route: lookups of a genuine ring's printed serial
    /// without (or with a wrong) secret never change what its buyer reads; one buyer's reloads and
    /// a family's checks of a gift coupon stay genuine with a count and the first check time.
    @Test func strangersCannotPoisonAGenuineRingAndRepeatChecksStayGenuine() async throws {
        try await withCrabNode { node, client, season, _ in
            let s = try #require(season)
            let ring = s.ring(1)
            for i in 0..<6 {
                let bare = try await verify(client, DigitalLink.shortCode(ring.key), city: i % 2 == 0 ? "Beijing" : "Suzhou")
                #expect(bare.json["status"]?.stringValue == "unknown", "\(bare.json.canonicalString)")
                let wrong = DigitalLink.uri(ring.key, resolver: "id.xiangchain.example", secret: "ZZZZ999\(i)")
                _ = try await verify(client, wrong, city: "Beijing", device: "script")
                try node.produceBlock()
            }
            // 7 checks by its Shanghai buyer's phone, then the real code reads genuine.
            for n in 1...7 {
                let r = try await verify(client, ring.uri, city: "Shanghai", device: "buyer1")
                #expect(r.json["status"]?.stringValue == "genuine", "\(r.json.canonicalString)")
                #expect(r.json["details"]?["scans"]?.int64Value == Int64(n))
                try node.produceBlock()
            }
            // A gift coupon checked by its giver (Suzhou) and the receiver's family (Shanghai).
            let coupon = s.coupons[1]
            for (n, (city, device)) in [
                ("Suzhou", "giver"), ("Suzhou", "giver"), ("Shanghai", "receiver"), ("Shanghai", "mother"),
                ("Shanghai", "father"), ("Shanghai", "receiver"), ("Shanghai", "receiver"),
            ].enumerated() {
                let r = try await verify(client, coupon.uri, city: city, device: device)
                #expect(r.json["status"]?.stringValue == "genuine", "check \(n + 1): \(r.json.canonicalString)")
                try node.produceBlock()
            }
            let last = try await verify(client, coupon.uri, city: "Shanghai", device: "receiver")
            #expect(last.json["details"]?["scans"]?.int64Value == 8 && last.json["details"]?["devices"]?.int64Value == 4)
            #expect(last.json["details"]?["firstScanCity"]?.stringValue == "Suzhou")
            let bad = try await verify(client, ring.uri, device: "bad*id")
            #expect(bad.status == .badRequest && bad.code == "invalid_parameter")
            let long = try await verify(client, ring.uri, device: String(repeating: "d", count: 65))
            #expect(long.status == .badRequest && long.code == "invalid_parameter")
        }
    }

    /// Issue 12, item 3: lookups are limited per client address and per code (429 with
    /// `Retry-After`), and a flood of lookups adds no more checks to the chain than the node's budget.
    @Test func lookupsAreRateLimitedAndAFloodAddsNoMoreThanTheScanBudget() async throws {
        try await withCrabNode(configure: {
            $0.verifyPerMinutePerClient = 8
            $0.verifyPerMinutePerCode = 3
            $0.complaintsPerHourPerClient = 2
        }) { node, client, season, _ in
            let s = try #require(season)
            for _ in 0..<3 { #expect(try await verify(client, s.ring(1).uri).status == .ok) }
            let perCode = try await verify(client, s.ring(1).uri)
            #expect(perCode.status == .tooManyRequests && perCode.code == "too_many_requests", "\(perCode.json.canonicalString)")
            let wait = try #require(perCode.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...60).contains(wait) && perCode.json["retryAfter"]?.int64Value == Int64(wait))
            // Other codes still answer until the address's own limit (8 a minute, refusals included).
            for n in 2...5 { #expect(try await verify(client, s.ring(n).uri).status == .ok) }
            let perClient = try await verify(client, s.ring(6).uri)
            #expect(perClient.status == .tooManyRequests && perClient.headers[.retryAfter] != nil)
            // Bad input counts too: a script cannot probe for free.
            #expect(try await verify(client, "garbage").status == .tooManyRequests)
            #expect(node.mempool.count == 7)
            // Complaints: 2 an hour from one address.
            func complain() async throws -> Reply {
                try await client.call(
                    .post, "/v1/complaints",
                    body: JSONValue.object([
                        "code": .string(s.ring(1).uri), "phone": .string("13912345678"), "text": .string("x"),
                    ]).canonicalBytes)
            }
            #expect(try await complain().status == .accepted)
            #expect(try await complain().status == .accepted)
            let third = try await complain()
            #expect(third.status == .tooManyRequests && third.headers[.retryAfter] != nil)
        }
        // The flood: 10,000 lookups of 40 codes against a budget of 25 recorded checks a minute.
        try await withCrabNode(configure: {
            $0.verifyPerMinutePerClient = 0
            $0.verifyPerMinutePerCode = 0
            $0.scanBudgetPerMinute = 25
        }) { node, client, season, _ in
            let s = try #require(season)
            let codes =
                (1...8).map { s.ring($0).uri }
                + (0..<32).map {
                    DigitalLink.uri(.sgtin(gtin: Self.gtin, serial: "F\($0)"), resolver: "x.example", secret: "K7Q2M9XZ")
                }
            let height = try node.store.tip()?.height ?? 0
            var answered = 0
            var notRecorded = 0
            let started = ChainNode.nowMillis()
            for i in 0..<10_000 {
                let r = try await verify(client, codes[i % codes.count])
                if r.status == .ok { answered += 1 }
                if r.json["scanNotRecorded"]?["code"]?.stringValue == "too_many_requests" { notRecorded += 1 }
            }
            // The budget is per minute: on a loaded machine the flood may span more than one window.
            let windows = Int((ChainNode.nowMillis() - started) / 60_000) + 1
            let recorded = 10_000 - notRecorded
            #expect(answered == 10_000)
            #expect(recorded >= 25 && recorded <= 25 * windows, "\(recorded) recorded in \(windows) window(s)")
            #expect(node.mempool.count == recorded)
            try node.produceBlock()
            let block = try #require(try node.store.block(at: height + 1))
            #expect(block.txids.count == recorded)
        }
    }

    /// Issue 12, item 9: a box sticker and a lot code get a verdict (contents, custody, the lot's
    /// farm, inspection and recall state), not an error; they are not recorded as checks.
    @Test func boxStickersAndLotCodesGetTheirVerdicts() async throws {
        try await withCrabNode { node, client, season, _ in
            _ = try #require(season)
            let box = try await verify(client, "https://id.xiangchain.example/00/\(Self.ssccA)")
            #expect(box.status == .ok && box.json["status"]?.stringValue == "genuine", "\(box.json.canonicalString)")
            #expect(box.json["kind"]?.stringValue == "sscc")
            let d = try #require(box.json["details"])
            #expect(d["crabs"]?.int64Value == 4 && d["lots"] == .array([.string("L1")]))
            #expect(d["custodian"]?["org"]?.stringValue == "consumer" && d["status"]?.stringValue == "delivered", "\(d)")
            #expect(d["packedBy"]?["name"]?.stringValue == "farmA Co.")
            #expect(d["farm"]?["name"]?.stringValue == "farmA Co." && d["inspection"]?["result"]?.stringValue == "pass")
            #expect(box.json["scanRecorded"] == .null && box.json["scanNotRecorded"] != nil)
            let lot = try await verify(client, "(01)\(Self.gtin)(10)L1")
            #expect(
                lot.json["status"]?.stringValue == "genuine" && lot.json["kind"]?.stringValue == "lot",
                "\(lot.json.canonicalString)")
            #expect(lot.json["details"]?["count"]?.int64Value == 8 && lot.json["details"]?["zone"]?.stringValue == "lake-east")
            let recalled = try await verify(client, "https://id.xiangchain.example/01/\(Self.gtin)/10/L2")
            #expect(recalled.json["status"]?.stringValue == "recalled", "\(recalled.json.canonicalString)")
            let unknownBox = try await verify(
                client, "https://id.xiangchain.example/00/\(GS1Key.appendingCheckDigit("10614141123456799")!)")
            #expect(
                unknownBox.json["status"]?.stringValue == "unknown"
                    && unknownBox.json["reasons"] == .array([.string("never_issued")]))
            #expect(node.mempool.count == 0)
        }
    }

    @Test func badCodesAndCitiesAreRefusedAndANodeWithoutGatewayRecordsNothing() async throws {
        try await withCrabNode(gateway: false) { node, client, season, _ in
            let ring = try #require(season).ring(1)
            let bad = [
                "", "hello", "https://id.xiangchain.example/01/09521234543214/21/R0001?s=K7Q2M9XZ",
                "https://id.xiangchain.example/414/9521234000013", "(01)\(Self.gtin)(21)R0001#SHORT",
                String(repeating: "9", count: 600), "https://id.xiangchain.example/01/\(Self.gtin)",
            ]
            for code in bad {
                let r = try await verify(client, code)
                #expect(r.status == .badRequest && r.code == "bad_code", "\(code): \(r.json.canonicalString)")
            }
            let noCity = try await client.call(.get, "/v1/verify?code=\(Self.q(ring.uri))")
            #expect(noCity.status == .badRequest && noCity.code == "invalid_parameter")
            let longCity = try await verify(client, ring.uri, city: String(repeating: "x", count: 65))
            #expect(longCity.status == .badRequest && longCity.code == "invalid_parameter")
            // Names that display as another: bidi overrides and isolates, zero-width characters,
            // separators, private use.
            for city in [
                "苏州\u{202E}州苏", "\u{2067}Suzhou", "Su\u{200B}zhou", "Su\u{2028}zhou", "\u{E000}Suzhou", "Suzhou\u{200F}",
            ] {
                let r = try await verify(client, ring.uri, city: city)
                #expect(r.status == .badRequest && r.code == "invalid_parameter", "\(city.unicodeScalars.map { $0.value })")
            }
            // Invalid UTF-8 and broken escapes are refused, not replaced.
            for query in ["city=%FF%FE", "city=%E8%8B", "city=Su%zhou", "city=%", "city=%C0%AF"] {
                let r = try await client.call(.get, "/v1/verify?code=\(Self.q(ring.uri))&\(query)")
                #expect(r.status == .badRequest && r.code == "invalid_parameter", "\(query): \(r.json.canonicalString)")
            }
            let chinese = try await verify(client, ring.uri, city: "苏州")
            #expect(chinese.status == .ok)

            let r = try await verify(client, ring.uri)
            #expect(r.json["status"]?.stringValue == "genuine")
            #expect(r.json["scanRecorded"] == .null && r.json["scanNotRecorded"]?["code"]?.stringValue == "no_gateway")
            #expect(node.mempool.count == 0)
            let complaint = try await client.call(
                .post, "/v1/complaints",
                body: JSONValue.object(["code": .string(ring.uri), "phone": .string("13912345678"), "text": .string("x")])
                    .canonicalBytes)
            #expect(complaint.status == .serviceUnavailable && complaint.code == "gateway_unavailable")
        }
    }

    @Test func anObserverAnswersTheVerdictAndForwardsTheScanToAValidator() async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            let validator = try consortium.node(in: dir, config: config, contracts: [CrabTraceContract()])
            let season = try setUpSeason(validator)
            let observer = try consortium.observer(in: dir, contracts: [CrabTraceContract()])
            @Sendable func catchUp() throws {
                let from = (try observer.store.tip()?.height ?? 0) + 1
                for b in try validator.finalBlocks(from: from, limit: 256) {
                    try observer.commitCertified(b)
                }
            }
            try catchUp()
            let sync = BlockSyncService(
                node: observer, sources: [ValidatorSource(node: validator)], interval: .seconds(1), logger: Logger(label: "o"))
            let gateway = CrabGateway(
                identity: try consortium.identity(.node, org: "reg", name: "observer0"),
                complaints: try OffchainComplaints(home: dir.appendingPathComponent("observer"), suite: consortium.suite))
            let app = Application(router: ChainAPI(node: observer, sync: sync, gateway: gateway).router())
            try await app.test(.router) { client in
                let r = try await verify(client, season.ring(1).uri, city: "Wuxi")
                #expect(r.json["status"]?.stringValue == "genuine", "\(r.json.canonicalString)")
                let txid = try #require(r.json["scanRecorded"]?["txid"]?.stringValue)
                #expect(validator.mempool.contains(try #require(Hash256(hex: txid))))
                #expect(observer.mempool.count == 0)
                try validator.produceBlock()
                try catchUp()
                let again = try await verify(client, season.ring(1).uri, city: "Wuxi")
                #expect(again.json["scansBefore"]?.int64Value == 1)
            }
        }
    }

    // MARK: trace

    @Test func theAccountabilityTraceNeedsARegulatorsSignedRequestAndProvesEveryStep() async throws {
        try await withCrabNode { node, client, season, _ in
            let ring = try #require(season).ring(1)
            _ = try await verify(client, ring.uri)
            try node.produceBlock()
            let uri = "/v1/trace/accountability?code=\(Self.q(ring.uri))"
            let regulator = try identity(.regulator, "reg")

            let none = try await signedGet(client, uri, as: nil)
            #expect(none.status == .unauthorized && none.code == "unauthenticated")
            let farm = try await signedGet(client, uri, as: try identity(.farm, "farmA"))
            #expect(farm.status == .forbidden && farm.code == "forbidden")
            let stale = try await signedGet(client, uri, as: regulator, timestamp: Fixtures.now - 6 * 60_000)
            #expect(stale.status == .unauthorized && stale.code == "stale_request")
            let tampered = try await signedGet(client, uri, as: regulator, signedTarget: uri + "&format=epcis")
            #expect(tampered.status == .unauthorized && tampered.code == "bad_signature")
            let stranger = try TestConsortium(orgs: ["reg"]).identity(.regulator, org: "reg")
            let foreign = try await signedGet(client, uri, as: stranger)
            #expect(foreign.status == .unauthorized && foreign.code == "unknown_ca")

            // Signed for another node or another chain: refused here.
            let otherNode = try await signedGet(client, uri, as: regulator, node: "node1")
            #expect(otherNode.status == .unauthorized && otherNode.code == "bad_signature")
            let otherChain = try await signedGet(client, uri, as: regulator, chain: "another-chain")
            #expect(otherChain.status == .unauthorized && otherChain.code == "bad_signature")
            let shortNonce = try await signedGet(client, uri, as: regulator, nonce: "abc")
            #expect(shortNonce.status == .unauthorized && shortNonce.code == "unauthenticated")
            // Accepted once; the same request again is a replay.
            let nonce = UUID().uuidString
            let first = try await signedGet(client, uri, as: regulator, nonce: nonce)
            #expect(first.status == .ok)
            let replay = try await signedGet(client, uri, as: regulator, nonce: nonce)
            #expect(replay.status == .unauthorized && replay.code == "replayed_request")

            let r = try await signedGet(client, uri, as: regulator)
            #expect(r.status == .ok, "\(r.json.canonicalString)")
            #expect(r.json["object"]?.stringValue == ring.key.canonical)
            let accountable = r.json["accountable"]?.arrayValue ?? []
            func signer(_ party: String) -> JSONValue? { accountable.first { $0["party"]?.stringValue == party }?["signer"] }
            #expect(signer("farm")?["org"]?.stringValue == "farmA" && signer("farm")?["subject"]?.stringValue == "farm-farmA")
            #expect(signer("lab")?["org"]?.stringValue == "lab" && signer("lab")?["role"]?.stringValue == "lab")
            #expect(signer("merchant")?["org"]?.stringValue == "merch")
            #expect(signer("logistics")?["org"]?.stringValue == "logi")
            let entries = r.json["entries"]?.arrayValue ?? []
            let steps = Set(entries.compactMap { $0["step"]?.stringValue })
            for step in ["commission_rings", "tag_harvest", "inspect_lot", "pack_box", "ship", "receive", "redeem", "scan"] {
                #expect(steps.contains(step), "missing \(step)")
            }
            #expect(
                entries.allSatisfy {
                    $0["signer"]?["org"]?.stringValue != nil && ($0["height"]?.int64Value ?? 0) > 0
                        && $0["txid"]?.stringValue?.count == 64 && $0["time"]?.int64Value != nil
                })
            // One proof per distinct transaction, each verifying against the validator's key.
            let txids = Set(entries.compactMap { $0["txid"]?.stringValue })
            let proofs = r.json["proofs"]?.arrayValue ?? []
            #expect(Set(proofs.compactMap { $0["txid"]?.stringValue }) == txids && proofs.count == txids.count)
            let keys = try consortium.genesis.validatorKeys()
            for proof in proofs {
                let report = try ProofVerifier.verify(proof: proof, suite: .ed25519, validatorKeys: keys, chainId: Self.chain)
                #expect(report.validSigners == ["node0"])
                // The same shape as GET /v1/txs/{txid}/proof.
                let single = try await client.call(.get, "/v1/txs/\(report.txid)/proof")
                #expect(single.json == proof)
            }

            let epcisURI = uri + "&format=epcis"
            let epcis = try await signedGet(client, epcisURI, as: regulator)
            #expect(epcis.status == .ok)
            #expect(epcis.json["type"]?.stringValue == "EPCISDocument")
            #expect((epcis.json["epcisBody"]?["eventList"]?.arrayValue?.count ?? 0) > 5)
            let badFormat = try await signedGet(client, uri + "&format=xml", as: regulator)
            #expect(badFormat.status == .badRequest && badFormat.code == "invalid_parameter")
        }
    }

    // MARK: oversight reads and public reads

    @Test func alertsComplaintsMembersAndSeasonsAnswerTheRightReaders() async throws {
        try await withCrabNode { node, client, season, _ in
            let s = try #require(season)
            // A wrong secret raises nothing on the genuine ring; a forged serial raises never_issued.
            _ = try await verify(client, DigitalLink.uri(s.ring(3).key, resolver: "x.example", secret: "ZZZZ9999"))
            let forged = GS1Key.sgtin(gtin: Self.gtin, serial: "R0999")
            _ = try await verify(client, DigitalLink.uri(forged, resolver: "x.example", secret: "ZZZZ9999"))
            _ = try await verify(client, s.ring(4).uri, city: "Suzhou", device: "a")
            _ = try await verify(client, s.ring(4).uri, city: "Beijing", device: "b")
            try node.produceBlock()
            let association = try identity(.association, "assoc")
            let alerts = try await signedGet(client, "/v1/crab/alerts?open=true&limit=10", as: association)
            #expect(alerts.status == .ok, "\(alerts.json.canonicalString)")
            let list = alerts.json["alerts"]?.arrayValue ?? []
            #expect(list.first?["object"]?.stringValue == s.ring(4).key.canonical, "newest first")
            #expect(list.contains { $0["kind"]?.stringValue == "never_issued" && $0["object"]?.stringValue == forged.canonical })
            #expect(!list.contains { $0["object"]?.stringValue == s.ring(3).key.canonical })
            #expect(alerts.json["openCount"]?.int64Value == Int64(list.count))
            #expect(alerts.json["openByKind"]?["never_issued"]?.int64Value == 1)
            let byObject = try await signedGet(
                client, "/v1/crab/alerts?object=\(Self.q(forged.canonical))", as: try identity(.regulator, "reg"))
            #expect(byObject.json["alerts"]?.arrayValue?.count == 1)
            let byKind = try await signedGet(client, "/v1/crab/alerts?kind=two_cities", as: association)
            #expect(byKind.json["alerts"]?.arrayValue?.map { $0["kind"] } == [.string("two_cities")])
            let paged = try await signedGet(client, "/v1/crab/alerts?open=true&limit=1", as: association)
            let next = try #require(paged.json["next"]?.int64Value)
            let second = try await signedGet(client, "/v1/crab/alerts?open=true&limit=1&before=\(next)", as: association)
            #expect(second.json["alerts"]?.arrayValue?.first?["seq"] != paged.json["alerts"]?.arrayValue?.first?["seq"])
            for bad in ["kind=nope", "before=-1", "open=maybe", "object=source:xyz"] {
                let r = try await signedGet(client, "/v1/crab/alerts?\(bad)", as: association)
                #expect(r.status == .badRequest && r.code == "invalid_parameter", "\(bad): \(r.json.canonicalString)")
            }
            let logistics = try await signedGet(client, "/v1/crab/alerts", as: try identity(.logistics, "logi"))
            #expect(logistics.status == .forbidden)
            #expect(try await signedGet(client, "/v1/crab/complaints", as: nil).status == .unauthorized)
            let badLimit = try await signedGet(client, "/v1/crab/alerts?limit=0", as: association)
            #expect(badLimit.status == .badRequest && badLimit.code == "invalid_parameter")

            let member = try await client.call(.get, "/v1/crab/members/farmA")
            #expect(member.status == .ok && member.json["zone"]?.stringValue == "lake-east")
            #expect(try await client.call(.get, "/v1/crab/members/nobody").code == "not_found")
            let seasonReply = try await client.call(.get, "/v1/crab/seasons/2026")
            #expect(seasonReply.status == .ok && seasonReply.json["maxScans"]?.int64Value == 5)
            #expect(try await client.call(.get, "/v1/crab/seasons/1999").status == .notFound)
        }
    }

    // MARK: complaints

    @Test func aComplaintKeepsThePhoneOffChainAndOnTheRegulatorsDesk() async throws {
        try await withCrabNode { node, client, season, dir in
            let ring = try #require(season).ring(2)
            let phone = "+8613912345678"
            let body = JSONValue.object([
                "code": .string(ring.uri), "phone": .string(phone),
                "text": .string(
                    "The crab was dead on arrival. Call me on 8613912345678, or 一三九 一二三四 五六七八; ID 32050219900101123X."),
                "city": .string("Suzhou"),
            ])
            let r = try await client.call(.post, "/v1/complaints", body: body.canonicalBytes)
            #expect(r.status == .accepted, "\(r.json.canonicalString)")
            let txid = try #require(r.json["txid"]?.stringValue)
            #expect(r.json["object"]?.stringValue == ring.key.canonical)
            try node.produceBlock()
            let id = try #require(Hash256(hex: txid))
            let stored = try #require(try node.store.transaction(id))
            #expect(stored.result.error == nil && stored.method == "complain" && stored.signerRole == "node")
            let onChain = String(decoding: stored.transaction.body, as: UTF8.self)
            // Issue 12, item 6: no free text on chain, only its salted hash; the public tx view neither.
            #expect(!onChain.contains("13912345678") && !onChain.contains(ring.secret))
            #expect(!onChain.contains("dead on arrival") && !onChain.contains("一三九") && !onChain.contains("19900101"))
            #expect(onChain.contains("textHash"))
            let publicView = try await client.call(.get, "/v1/txs/\(txid)")
            #expect(publicView.status == .ok && !publicView.json.canonicalString.contains("dead on arrival"))

            let file = dir.appendingPathComponent("data/offchain-complaints.jsonl")
            let text = try String(contentsOf: file, encoding: .utf8)
            // Phone and text are sealed under the node's data key (docs/crypto.md, "Data at rest").
            #expect(!text.contains(phone) && !text.contains("dead on arrival") && text.contains(txid))
            for url in [file, dir.appendingPathComponent("phone-salt"), dir.appendingPathComponent("data-key")] {
                let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
                #expect(mode == 0o600, "\(url.lastPathComponent)")
            }

            let regulatorView = try await signedGet(client, "/v1/crab/complaints", as: try identity(.regulator, "reg"))
            let c = try #require(regulatorView.json["complaints"]?.arrayValue?.first)
            #expect(c["txid"]?.stringValue == txid && c["contactPhone"]?.stringValue == phone)
            #expect(c["phoneHash"]?.stringValue?.count == 64 && c["known"] == .bool(true))
            #expect(c["text"]?.stringValue?.contains("dead on arrival") == true && c["textHash"]?.stringValue?.count == 64)
            let associationView = try await signedGet(client, "/v1/crab/complaints", as: try identity(.association, "assoc"))
            #expect(associationView.json["complaints"]?.arrayValue?.first?["contactPhone"] == nil)
            #expect(associationView.json["complaints"]?.arrayValue?.first?["text"]?.stringValue?.contains("dead") == true)
            // The city goes on chain: a phone number there is refused before anything is written.
            let sneaky = try await client.call(
                .post, "/v1/complaints",
                body: JSONValue.object([
                    "code": .string(ring.uri), "phone": .string(phone), "text": .string("x"), "city": .string("苏州 139-1234-5678"),
                ]).canonicalBytes)
            #expect(sneaky.status == .badRequest && sneaky.code == "personal_data", "\(sneaky.json.canonicalString)")

            let refused: [(JSONValue, String)] = [
                (.object(["code": .string(ring.uri), "phone": .string("12ab5"), "text": .string("x")]), "bad_args"),
                (.object(["code": .string(ring.uri), "phone": .string("1234"), "text": .string("x")]), "bad_args"),
                (.object(["code": .string(ring.uri), "text": .string("x")]), "bad_args"),
                (.object(["code": .string("nope"), "phone": .string(phone), "text": .string("x")]), "bad_code"),
                (
                    .object([
                        "code": .string(ring.uri), "phone": .string(phone), "text": .string(String(repeating: "a", count: 501)),
                    ]), "bad_args"
                ),
                (
                    .object(["code": .string(ring.uri), "phone": .string(phone), "text": .string("x"), "name": .string("Li")]),
                    "malformed"
                ),
            ]
            for (bad, code) in refused {
                let reply = try await client.call(.post, "/v1/complaints", body: bad.canonicalBytes)
                #expect(
                    reply.status == .badRequest && reply.code == code, "\(bad.canonicalString): \(reply.json.canonicalString)")
            }
            #expect(node.mempool.count == 0)
        }
    }

    // MARK: sweep

    @Test func theSweeperSubmitsDueCouponsOnce() async throws {
        try await withCrabNode { node, _, season, _ in
            let s = try #require(season)
            let sweeper = CrabSweeper(
                node: node, identity: try consortium.nodeIdentity(), interval: .seconds(60), logger: Logger(label: "sweep"))
            #expect(CrabSweeper.isSweeper(node))
            #expect(sweeper.sweepOnce() == nil)
            // Sixty-one days on, coupon 2 (issued, unredeemed) is a candidate.
            let later = Fixtures.now + 61 * Self.day
            let id = try #require(sweeper.sweepOnce(now: later))
            #expect(sweeper.sweepOnce(pending: id, now: later) == id)
            #expect(node.mempool.count == 1)
            try node.produceBlock()
            let stored = try #require(try node.store.transaction(id))
            #expect(stored.result.error == nil && stored.method == "sweep")
            #expect(String(decoding: stored.transaction.body, as: UTF8.self).contains(try #require(s.coupons[1].key.gcnValue)))
        }
    }

    /// Every validator runs the sweeper; the one of rank k sweeps only what has been due for k
    /// failover delays (2 × interval), so the work goes on when the first validator is down.
    @Test func theNextValidatorSweepsWhatTheFirstLeftAfterTheFailoverDelay() async throws {
        try await withCrabNode { node, _, season, _ in
            _ = try #require(season)
            let sweeper = CrabSweeper(
                node: node, identity: try consortium.nodeIdentity(), interval: .seconds(60), logger: Logger(label: "sweep"))
            #expect(CrabSweeper.rank(node) == 0)
            // The coupon falls due at some moment between 60 and 61 days on: find the first
            // minute it is a candidate for rank 0.
            var due = Fixtures.now + 60 * Self.day
            while sweeper.sweepOnce(now: due, rank: 0) == nil {
                #expect(due < Fixtures.now + 62 * Self.day)
                due += 60_000
            }
            node.mempool.remove(node.mempool.peek(max: 10).map(\.transaction.id))
            // Rank 1 leaves it alone for two intervals (the first validator's turn), then sweeps it.
            #expect(sweeper.sweepOnce(now: due, rank: 1) == nil)
            #expect(sweeper.sweepOnce(now: due + 119_000, rank: 1) == nil)
            #expect(sweeper.sweepOnce(now: due + 120_000, rank: 1) != nil)
            node.mempool.remove(node.mempool.peek(max: 10).map(\.transaction.id))
            // Rank 2 waits four.
            #expect(sweeper.sweepOnce(now: due + 239_000, rank: 2) == nil)
            let id = try #require(sweeper.sweepOnce(now: due + 240_000, rank: 2))
            try node.produceBlock()
            #expect(try node.store.transaction(id)?.result.error == nil)
        }
    }
}

/// A validator reached in process: serves its final blocks and takes forwarded submissions.
struct ValidatorSource: BlockSource {
    let node: ChainNode
    var name: String { node.config.nodeId }

    func blocks(from: UInt64, limit: Int) async throws -> [UInt8] {
        BlockSyncBatch.encode(try node.finalBlocks(from: from, limit: limit))
    }

    func submit(_ body: [UInt8]) async throws {
        try node.submit(try JSONDecoder().decode(TransactionSubmission.self, from: Data(body)).decode(hasher: .sha256))
    }

    /// This single-validator chain never changes its validator set.
    func epochSignatures() async throws -> [UInt64: [ValidatorSignature]] { [:] }

    func height() async throws -> UInt64? { try node.store.tip()?.height }
}
