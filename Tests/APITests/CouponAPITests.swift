import API
import ChainCore
import ChainTesting
import CrabTraceContract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Identity
import Logging
import Node
import Storage
import Synchronization
import Testing

/// Every line the API logged, as text (message and metadata).
final class APILogRecorder: Sendable {
    let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
    var logger: Logger {
        var l = Logger(label: "api") { _ in APILogHandler(recorder: self) }
        l.logLevel = .trace
        return l
    }
}

struct APILogHandler: LogHandler {
    let recorder: APILogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, b in b }
        recorder.lines.withLock { $0.append("\(event.level) \(event.message) \(all)") }
    }
}

/// Issue 12, item 5: consumers book, give and redeem coupons through the public routes, their
/// phone proved by a one-time code sent through the gateway's SMS sender (here the devnet's
/// `sms.log` in the node home), on a real solo node with SQLite files.
extension CrabAPITests {
    static let phone = "13912345678"

    func withCouponNode(
        configure: @Sendable (inout NodeConfig) -> Void = { _ in },
        _ body: @Sendable (ChainNode, any TestClientProtocol, Season, URL, APILogRecorder) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { dir in
            var config = NodeConfig(nodeId: "node0")
            config.syncCommits = false
            configure(&config)
            let node = try consortium.node(in: dir, config: config, contracts: [CrabTraceContract()])
            let gw = CrabGateway(
                identity: try consortium.nodeIdentity(),
                complaints: try OffchainComplaints(home: dir, suite: consortium.suite), sms: FileSMSSender(home: dir))
            let season = try setUpSeason(node)
            let logs = APILogRecorder()
            let app = Application(router: ChainAPI(node: node, maxWait: .seconds(10), gateway: gw).router(), logger: logs.logger)
            try await app.test(.router) { client in try await body(node, client, season, dir, logs) }
        }
    }

    /// Runs `body` while blocks are cut every few milliseconds (the routes wait for their commit).
    func producing<T: Sendable>(_ node: ChainNode, _ body: () async throws -> T) async throws -> T {
        let producer = Task {
            while !Task.isCancelled {
                _ = try? node.produceBlock()
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        do {
            let value = try await body()
            producer.cancel()
            await producer.value
            return value
        } catch {
            producer.cancel()
            await producer.value
            throw error
        }
    }

    /// The messages of `sms.log`: `(to, code)`.
    func sentCodes(_ dir: URL) throws -> [(to: String, code: String)] {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("sms.log")) else { return [] }
        return try data.split(separator: 0x0A).map { line in
            let o = try JSONParser().parse(Array(line))
            let text = o["text"]?.stringValue ?? ""
            let code = text.split(whereSeparator: { !$0.isNumber }).first { $0.count == 6 }.map(String.init) ?? ""
            return (o["to"]?.stringValue ?? "", code)
        }
    }

    func post(_ client: any TestClientProtocol, _ gcn: String, _ action: String, _ body: [String: String]) async throws -> Reply {
        try await client.call(
            .post, "/v1/coupons/\(gcn)/\(action)", body: JSONValue.object(body.mapValues { .string($0) }).canonicalBytes)
    }

    /// Submits a signed call in its own block; the contract's error code, nil on success.
    func attempt(_ node: ChainNode, _ role: Role, _ org: String, _ call: ContractCall) throws -> String? {
        let tx = try identity(role, org).transaction(chain: Self.chain, call: call)
        try node.submit(tx)
        try node.produceBlock()
        return try #require(try node.store.transaction(tx.id)).result.error?.code.rawValue
    }

    func coupon(_ node: ChainNode, _ gcn: String) throws -> JSONValue? {
        try CrabQueries(state: node.store, config: CrabTraceConfig(resolver: "id.xiangchain.example")).object(.gcn(gcn))
    }

    /// Every byte the node wrote to its home, but the devnet's SMS outbox.
    func homeBytes(_ dir: URL) throws -> [UInt8] {
        var all: [UInt8] = []
        let files = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.lastPathComponent != "sms.log", let d = try? Data(contentsOf: url) else { continue }
            all += Array(d)
        }
        return all
    }

    @Test func aConsumerBooksWithAOneTimeCodeAndTheMerchantRedeemsOnlyWhatWasBooked() async throws {
        try await withCouponNode { node, client, season, dir, logs in
            let c = season.coupons[1]
            let gcn = try #require(c.key.gcnValue)
            // Unbooked: the merchant cannot redeem it at all.
            #expect(try attempt(node, .merchant, "merch", CrabCall.redeem(gcn: gcn, sscc: Self.ssccB)) == "not_booked")

            let sent = try await post(client, gcn, "otp", ["secret": c.secret.lowercased(), "phone": "139 1234 5678"])
            #expect(sent.status == .accepted, "\(sent.json.canonicalString)")
            #expect(sent.json["to"]?.stringValue == "+86 139****5678" && sent.json["expiresIn"]?.int64Value == 300)
            let codes = try sentCodes(dir)
            #expect(codes.count == 1 && codes[0].to == "+8613912345678")
            let code = try #require(codes.first?.code)
            #expect(code.count == 6)

            // The phone written another way (+86, dashes, full-width digits) is the same phone.
            let wrong = code == "000000" ? "111111" : "000000"
            let bad = try await post(
                client, gcn, "book", ["secret": c.secret, "phone": "+86 139-1234-5678", "code": wrong, "city": "苏州"])
            #expect(bad.status == .unprocessableContent && bad.code == "otp_wrong", "\(bad.json.canonicalString)")
            let booked = try await producing(node) {
                try await post(client, gcn, "book", ["secret": c.secret, "phone": "１３９１２３４５６７８", "code": code, "city": "苏州"])
            }
            #expect(booked.status == .ok && booked.json["status"]?.stringValue == "committed", "\(booked.json.canonicalString)")
            let txid = try #require(booked.json["txid"]?.stringValue)
            let id = try #require(Hash256(hex: txid))
            let stored = try #require(try node.store.transaction(id))
            #expect(stored.method == "book_redemption" && stored.signerRole == "node" && stored.result.error == nil)
            #expect(try coupon(node, gcn)?["status"]?.stringValue == "booked")
            // Replayed: a code is used once.
            let replay = try await post(
                client, gcn, "book", ["secret": c.secret, "phone": Self.phone, "code": code, "city": "苏州"])
            #expect(replay.status == .unprocessableContent && replay.code == "otp_expired", "\(replay.json.canonicalString)")

            // At the counter: the booked coupon is redeemed against the shop's box.
            #expect(try attempt(node, .merchant, "merch", CrabCall.redeem(gcn: gcn, sscc: Self.ssccB)) == nil)
            #expect(try coupon(node, gcn)?["status"]?.stringValue == "redeemed")

            // The phone, however written, is nowhere in what the node stored, nor in its log.
            let bytes = try homeBytes(dir)
            for spelling in [Self.phone, "139 1234 5678", "139-1234-5678", "１３９１２３４５６７８"] {
                #expect(!bytes.contains(Array(spelling.utf8)), "\(spelling) in the node's files")
                #expect(!logs.text.contains(spelling), "\(spelling) in the log")
            }
            #expect(!logs.text.contains(code))
            #expect(logs.text.contains("one-time code sent"))
        }
    }

    @Test func wrongSecretsCodesAndPhonesAreRefusedAndTooManyTriesVoidTheCode() async throws {
        try await withCouponNode(configure: {
            $0.otpMaxTries = 3
            $0.otpPerHourPerClient = 0
            $0.otpPerHourPerCoupon = 0
        }) { node, client, season, dir, _ in
            let c = season.coupons[1]
            let gcn = try #require(c.key.gcnValue)
            let refused: [([String: String], String, HTTPResponse.Status)] = [
                (["secret": "ZZZZZZZZ", "phone": Self.phone], "bad_secret", .unprocessableContent),
                (["secret": "not a secret!", "phone": Self.phone], "bad_secret", .unprocessableContent),
                (["secret": c.secret, "phone": "12345"], "bad_phone", .badRequest),
                (["secret": c.secret, "phone": "1391234567x"], "bad_phone", .badRequest),
                (["secret": c.secret, "phone": "+86 12912345678"], "bad_phone", .badRequest),
                (["secret": c.secret], "bad_phone", .badRequest),
            ]
            for (body, code, status) in refused {
                let r = try await post(client, gcn, "otp", body)
                #expect(r.status == status && r.code == code, "\(body): \(r.json.canonicalString)")
            }
            let unknown = try #require(GS1Key.appendingCheckDigit("952123400009"))
            #expect(try await post(client, unknown, "otp", ["secret": c.secret, "phone": Self.phone]).code == "unknown_coupon")
            #expect(try await post(client, "12345", "otp", ["secret": c.secret, "phone": Self.phone]).code == "bad_code")
            let extra = try await post(client, gcn, "otp", ["secret": c.secret, "phone": Self.phone, "name": "Li"])
            #expect(extra.status == .badRequest && extra.code == "malformed")
            // A redeemed coupon gets no code, and cannot be given.
            let redeemed = season.coupons[0]
            let r1 = try await post(
                client, try #require(redeemed.key.gcnValue), "otp", ["secret": redeemed.secret, "phone": Self.phone])
            #expect(r1.code == "already_redeemed", "\(r1.json.canonicalString)")
            let t1 = try await post(
                client, try #require(redeemed.key.gcnValue), "transfer",
                ["secret": redeemed.secret, "phone": Self.phone, "code": "123456", "toPhone": "13812345678"])
            #expect(t1.code == "already_redeemed", "\(t1.json.canonicalString)")
            #expect(try sentCodes(dir).isEmpty)

            // Three wrong codes void it: the right one no longer works.
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": Self.phone]).status == .accepted)
            let code = try #require(try sentCodes(dir).last?.code)
            let wrong = code == "000000" ? "111111" : "000000"
            let book = ["secret": c.secret, "phone": Self.phone, "city": "苏州"]
            var tries: [String?] = []
            for _ in 0..<3 { tries.append(try await post(client, gcn, "book", book.merging(["code": wrong]) { $1 }).code) }
            #expect(tries == ["otp_wrong", "otp_wrong", "otp_exhausted"])
            #expect(try await post(client, gcn, "book", book.merging(["code": code]) { $1 }).code == "otp_expired")
            #expect(try await post(client, gcn, "book", book.merging(["code": "12345"]) { $1 }).code == "bad_args")
            // A code for one phone is not a code for another.
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": Self.phone]).status == .accepted)
            let fresh = try #require(try sentCodes(dir).last?.code)
            let other = try await post(
                client, gcn, "book", ["secret": c.secret, "phone": "13800000000", "city": "苏州", "code": fresh])
            #expect(other.code == "otp_expired")
            // A city with a phone number in it never reaches the chain.
            let sneaky = try await post(client, gcn, "book", book.merging(["code": fresh, "city": "苏州 139 1234 5678"]) { $1 })
            #expect(sneaky.code == "personal_data")
            #expect(node.mempool.count == 0)
            #expect(try coupon(node, gcn)?["status"]?.stringValue == "issued")
        }
        // Expired: a code past its life is refused.
        try await withCouponNode(configure: { $0.otpTtlSeconds = 1 }) { _, client, season, dir, _ in
            let c = season.coupons[1]
            let gcn = try #require(c.key.gcnValue)
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": Self.phone]).status == .accepted)
            let code = try #require(try sentCodes(dir).last?.code)
            try await Task.sleep(for: .milliseconds(1_100))
            let late = try await post(client, gcn, "book", ["secret": c.secret, "phone": Self.phone, "code": code, "city": "苏州"])
            #expect(late.code == "otp_expired", "\(late.json.canonicalString)")
        }
    }

    @Test func aGiftGoesToTheReceiversPhoneAndOnlyTheReceiverBooksIt() async throws {
        try await withCouponNode { node, client, season, dir, _ in
            let c = season.coupons[1]
            let gcn = try #require(c.key.gcnValue)
            let giver = Self.phone
            let receiver = "+86 138 0013 8000"
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": giver]).status == .accepted)
            let code = try #require(try sentCodes(dir).last?.code)
            let own = try await post(
                client, gcn, "transfer", ["secret": c.secret, "phone": giver, "code": code, "toPhone": giver])
            #expect(own.code == "bad_args")
            let noPhone = try await post(
                client, gcn, "transfer", ["secret": c.secret, "phone": giver, "code": code, "toPhone": "x"])
            #expect(noPhone.code == "bad_phone")
            let gift = try await producing(node) {
                try await post(client, gcn, "transfer", ["secret": c.secret, "phone": giver, "code": code, "toPhone": receiver])
            }
            #expect(gift.status == .ok && gift.json["to"]?.stringValue == "+86 138****8000", "\(gift.json.canonicalString)")
            let txid = try #require(gift.json["txid"]?.stringValue)
            let id = try #require(Hash256(hex: txid))
            let stored = try #require(try node.store.transaction(id))
            #expect(stored.method == "transfer_coupon" && stored.result.error == nil)
            let body = String(decoding: stored.transaction.body, as: UTF8.self)
            #expect(!body.contains("13800138000") && !body.contains(giver) && !body.contains(c.secret))
            #expect(try coupon(node, gcn)?["holderHash"]?.stringValue?.count == 64)

            // The giver still knows the secret, but the coupon is no longer theirs.
            let again = try await post(client, gcn, "otp", ["secret": c.secret, "phone": giver])
            #expect(again.code == "not_holder", "\(again.json.canonicalString)")
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": receiver]).status == .accepted)
            let theirs = try #require(try sentCodes(dir).last)
            #expect(theirs.to == "+8613800138000")
            let booked = try await producing(node) {
                try await post(
                    client, gcn, "book", ["secret": c.secret, "phone": "13800138000", "code": theirs.code, "city": "上海"])
            }
            #expect(booked.json["status"]?.stringValue == "committed", "\(booked.json.canonicalString)")
            // A booked coupon is not given again.
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": receiver]).status == .accepted)
            let next = try #require(try sentCodes(dir).last?.code)
            let late = try await post(
                client, gcn, "transfer", ["secret": c.secret, "phone": receiver, "code": next, "toPhone": giver])
            #expect(late.code == "bad_state", "\(late.json.canonicalString)")
            #expect(try attempt(node, .merchant, "merch", CrabCall.redeem(gcn: gcn, sscc: Self.ssccB)) == nil)
            // The trace names the consumer (the receiver's booking, signed by the gateway).
            let trace = try CrabQueries(state: node.store, config: CrabTraceConfig(resolver: "id.xiangchain.example"))
                .history(c.key.canonical).map(\.step)
            #expect(trace.contains("transfer_coupon") && trace.contains("book_redemption") && trace.contains("redeem"))
        }
    }

    @Test func codeRequestsAndBookingsAreRateLimitedPerAddressCouponAndPhone() async throws {
        try await withCouponNode(configure: {
            $0.otpPerHourPerClient = 7
            $0.otpPerHourPerCoupon = 3
            $0.otpPerHourPerPhone = 2
            $0.couponActionsPerHourPerClient = 2
        }) { _, client, season, dir, _ in
            let c = season.coupons[1]
            let gcn = try #require(c.key.gcnValue)
            // Per phone: the third code to one phone, however it is written.
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": "13900000001"]).status == .accepted)
            #expect(try await post(client, gcn, "otp", ["secret": c.secret, "phone": "+86 139 0000 0001"]).status == .accepted)
            let perPhone = try await post(client, gcn, "otp", ["secret": c.secret, "phone": "１３９００００００01"])
            #expect(
                perPhone.status == .tooManyRequests && perPhone.code == "too_many_requests", "\(perPhone.json.canonicalString)")
            #expect(perPhone.headers[.retryAfter].flatMap { Int($0) }.map { (1...3600).contains($0) } == true)
            // Per coupon: the fourth request with its secret, whatever the phone.
            let perCoupon = try await post(client, gcn, "otp", ["secret": c.secret, "phone": "13900000002"])
            #expect(perCoupon.status == .tooManyRequests, "\(perCoupon.json.canonicalString)")
            // Wrong guesses do not spend the holder's codes; they count against the address.
            let never = try #require(GS1Key.appendingCheckDigit("952123400009"))
            #expect(try await post(client, never, "otp", ["secret": c.secret, "phone": "13900000009"]).code == "unknown_coupon")
            #expect(try await post(client, gcn, "otp", ["secret": "ZZZZZZZZ", "phone": "13900000009"]).code == "bad_secret")
            #expect(try await post(client, gcn, "otp", ["secret": "ZZZZZZZ1", "phone": "13900000009"]).code == "bad_secret")
            // Per address: the eighth request.
            let perClient = try await post(client, gcn, "otp", ["secret": c.secret, "phone": "13900000008"])
            #expect(perClient.status == .tooManyRequests && perClient.headers[.retryAfter] != nil)
            #expect(try sentCodes(dir).count == 2)
            // Bookings and gifts: two an hour from one address, tries included.
            for _ in 0..<2 {
                let r = try await post(
                    client, gcn, "book", ["secret": c.secret, "phone": "13900000001", "code": "000000", "city": "苏州"])
                #expect(r.status == .unprocessableContent)
            }
            let third = try await post(
                client, gcn, "transfer", ["secret": c.secret, "phone": "13900000001", "code": "000000", "toPhone": "13900000002"])
            #expect(third.status == .tooManyRequests)
        }
    }

    @Test func aNodeWithoutSMSSenderRunsNoCouponFlows() async throws {
        try await withCrabNode { _, client, season, _ in
            let c = try #require(season).coupons[1]
            let r = try await post(client, try #require(c.key.gcnValue), "otp", ["secret": c.secret, "phone": Self.phone])
            #expect(r.status == .serviceUnavailable && r.code == "gateway_unavailable")
        }
    }
}

/// The code of the error `body` throws; nil when it throws none.
func failure(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let e as ChainError {
        return e.code.rawValue
    } catch {
        return "\(error)"
    }
}

/// The one-time code store and phone spellings, as pure logic.
@Suite struct OneTimeCodesTests {
    @Test func aCodeIsUsedOnceWithinItsLifeAndVoidAfterTooManyTries() throws {
        let codes = OneTimeCodes(ttlMs: 1_000, maxTries: 2, capacity: 3)
        let c = codes.issue(for: "a", now: 0)
        #expect(c.count == 6 && c.allSatisfy(\.isNumber))
        #expect(failure { try codes.consume(c, for: "a", now: 999) } == nil)
        #expect(failure { try codes.consume(c, for: "a", now: 999) } == "otp_expired")
        let d = codes.issue(for: "b", now: 0)
        #expect(failure { try codes.consume(d, for: "b", now: 1_000) } == "otp_expired")
        let e = codes.issue(for: "c", now: 0)
        let wrong = e == "000000" ? "000001" : "000000"
        #expect(failure { try codes.consume(wrong, for: "c", now: 1) } == "otp_wrong")
        #expect(failure { try codes.consume(wrong, for: "c", now: 2) } == "otp_exhausted")
        #expect(failure { try codes.consume(e, for: "c", now: 3) } == "otp_expired")
        // A new code replaces the old one.
        let f1 = codes.issue(for: "d", now: 0)
        let f2 = codes.issue(for: "d", now: 1)
        if f1 != f2 { #expect(failure { try codes.consume(f1, for: "d", now: 2) } == "otp_wrong") }
        #expect(failure { try codes.consume(f2, for: "d", now: 2) } == nil)
    }

    @Test func theStoreIsBoundedAndTheOldestGoesFirst() throws {
        let codes = OneTimeCodes(ttlMs: 60_000, maxTries: 5, capacity: 3)
        var issued: [String] = []
        for k in 0..<10 { issued.append(codes.issue(for: "k\(k)", now: Int64(k))) }
        #expect(codes.count == 3)
        #expect(failure { try codes.consume(issued[0], for: "k0", now: 20) } == "otp_expired")
        #expect(failure { try codes.consume(issued[9], for: "k9", now: 20) } == nil)
        #expect(failure { try codes.consume(issued[7], for: "k7", now: 20) } == nil)
    }

    @Test func everySpellingOfAPhoneIsTheSamePhone() throws {
        for s in [
            "13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678", "+8613912345678", "008613912345678",
            "8613912345678", "１３９１２３４５６７８", "＋８６ １３９－１２３４－５６７８", "(+86) 139.1234.5678", "139\u{3000}1234\u{3000}5678",
        ] {
            #expect(try PhoneNumber.normalize(s) == "+8613912345678", "\(s)")
        }
        #expect(try PhoneNumber.normalize("+44 20 7946 0958") == "+442079460958")
        for bad in [
            "", "12345", "1391234567", "139123456789", "+86 12912345678", "1391234567x", "1+3912345678", "+0123456789",
            "一三九一二三四五六七八",
        ] {
            #expect(failure { _ = try PhoneNumber.normalize(bad) } == "bad_phone")
        }
        #expect(PhoneNumber.masked("+8613912345678") == "+86 139****5678")
    }
}
