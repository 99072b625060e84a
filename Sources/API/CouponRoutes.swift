import ChainCore
import CrabTraceContract
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import Logging
import Node

/// The consumer coupon flows (`docs/crabtrace.md`, "Consumer coupon flows"; `docs/openapi.yaml`,
/// tag `crab`): a consumer who holds a coupon's printed secret proves a phone with a one-time code
/// sent through the gateway's `SMSSender`, then books its redemption or gives it to another phone.
/// The gateway signs `book_redemption` / `transfer_coupon` as it signs scans; the chain gets the
/// phones' salted hashes, never a phone.
struct CouponRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.post("coupons/:gcn/otp") { request, context in
            try await self.requestCode(request, gcn: context.parameters.require("gcn"), logger: context.logger)
        }
        r.post("coupons/:gcn/book") { request, context in
            try await self.book(request, gcn: context.parameters.require("gcn"), logger: context.logger)
        }
        r.post("coupons/:gcn/transfer") { request, context in
            try await self.transfer(request, gcn: context.parameters.require("gcn"), logger: context.logger)
        }
        return r
    }

    /// Largest body of the coupon routes, bytes.
    static let maxBody = 2 * 1024

    var crabQueries: CrabQueries {
        CrabQueries(state: node.store, config: CrabTraceConfig(resolver: node.config.resolver))
    }

    /// The gateway with its SMS sender, or `gateway_unavailable`.
    func gateway() throws(ChainError) -> (CrabGateway, any SMSSender) {
        guard let g = api.gateway, let sms = g.sms else {
            throw ChainError(.gatewayUnavailable, "this node runs no consumer coupon flows: it has no gateway or SMS sender")
        }
        return (g, sms)
    }

    /// What every coupon route reads first: the coupon, its secret's check, the phone.
    struct Presented {
        let key: GS1Key
        let gcn: String
        let secretHash: String
        let phone: String
        let phoneHash: String
        let coupon: [String: JSONValue]
        var codeKey: String { OneTimeCodes.key(coupon: key.canonical, phoneHash: phoneHash) }
    }

    /// The coupon `gcn` presented with `secret` by `phone`: `bad_code`, `bad_phone`,
    /// `unknown_coupon`, `bad_secret`, the states that end a coupon (`already_redeemed`,
    /// `coupon_expired`, `coupon_refunded`, `recalled`), and `not_holder` when the coupon was given
    /// (through a gateway) to another phone.
    func present(gcn raw: String, body o: [String: JSONValue], gateway: CrabGateway, now: Int64) throws -> Presented {
        let gcn = try GS1Key.checkedGCN(raw)
        let key = GS1Key.gcn(gcn)
        guard let rawPhone = o["phone"]?.stringValue else { throw PhoneNumber.refusal }
        let phone = try PhoneNumber.normalize(rawPhone)
        let phoneHash = gateway.complaints.phoneHash(phone)
        guard let secret = o["secret"]?.stringValue?.trimmingCharacters(in: .whitespaces).uppercased(),
            (CodeSecret.minLength...CodeSecret.maxLength).contains(secret.utf8.count),
            secret.utf8.allSatisfy({ CodeSecret.alphabet.utf8.contains($0) })
        else {
            throw ChainError(.badSecret, "\"secret\" must be the coupon's printed secret (6–16 letters and digits)")
        }
        guard let coupon = try crabQueries.object(key)?.objectValue, coupon["type"]?.stringValue == "coupon" else {
            throw ChainError(.unknownCoupon, "coupon \(key.canonical) was never issued")
        }
        let secretHash = CodeSecret.hash(key: key, secret: secret)
        guard coupon["secretHash"]?.stringValue == secretHash else {
            throw ChainError(.badSecret, "the secret does not match coupon \(key.canonical)")
        }
        switch coupon["status"]?.stringValue ?? "" {
        case "redeemed": throw ChainError(.alreadyRedeemed, "coupon \(key.canonical) was already redeemed")
        case "expired": throw ChainError(.couponExpired, "coupon \(key.canonical) has expired")
        case "refunded": throw ChainError(.couponRefunded, "coupon \(key.canonical) was refunded")
        case "recalled": throw ChainError(.recalled, "coupon \(key.canonical) is recalled")
        default: break
        }
        if let until = coupon["validUntil"]?.int64Value, now > until {
            throw ChainError(.couponExpired, "coupon \(key.canonical) was valid until \(until)")
        }
        if let holder = coupon["holderHash"]?.stringValue, holder != phoneHash {
            // A holder set by a gateway's gift transfer is a phone hash: only that phone may go on.
            // (A merchant's sale may name a holder in its own terms: the secret proves possession then.)
            let last = try crabQueries.history(key.canonical).last {
                $0.step == "transfer_coupon" || $0.step == "sell_coupon"
            }
            if last?.step == "transfer_coupon", last?.signer.role == "node" {
                throw ChainError(
                    .notHolder,
                    "coupon \(key.canonical) was given to another phone: only its holder may book or give it (on the node that recorded the gift)"
                )
            }
        }
        return Presented(key: key, gcn: gcn, secretHash: secretHash, phone: phone, phoneHash: phoneHash, coupon: coupon)
    }

    /// `POST /v1/coupons/{gcn}/otp {secret, phone}`: sends a 6-digit code to the phone (202
    /// `{sent, to (masked), expiresIn}`). Limits: per client address, per coupon, per phone.
    func requestCode(_ request: Request, gcn: String, logger: Logger) async throws -> Response {
        let (gateway, sms) = try gateway()
        let now = ChainNode.nowMillis()
        if let wait = api.limits.otpPerClient?.take(RequestOrigin.address, now: now) {
            return PublicRateLimits.refusal(wait, "too many code requests from this address")
        }
        let o = try await RequestInput.jsonObjectBody(request, limit: Self.maxBody, maxDepth: 2, allowed: ["secret", "phone"])
        let p = try present(gcn: gcn, body: o, gateway: gateway, now: now)
        // Counted once the secret matched: a stranger's wrong guesses (bounded per address) do not
        // spend a holder's codes.
        if let wait = api.limits.otpPerCoupon?.take(p.key.canonical, now: now) {
            return PublicRateLimits.refusal(wait, "too many codes requested for this coupon")
        }
        if let wait = api.limits.otpPerPhone?.take(p.phoneHash, now: now) {
            return PublicRateLimits.refusal(wait, "too many codes sent to this phone")
        }
        let code = api.codes.issue(for: p.codeKey, now: now)
        let minutes = max(1, Int(api.codes.ttlMs / 60_000))
        let text = "【相城链】蟹券验证码 \(code)，\(minutes) 分钟内有效，券号尾号 \(p.gcn.suffix(4))。请勿告诉他人。"
        do {
            try await sms.send(phone: p.phone, text: text)
        } catch {
            api.codes.void(p.codeKey)
            logger.warning(
                "one-time code not sent",
                metadata: ["coupon": .string(p.key.canonical), "phoneHash": .string(String(p.phoneHash.prefix(16)))])
            throw ChainError(.smsFailed, "the code could not be sent; retry later")
        }
        logger.info(
            "one-time code sent",
            metadata: ["coupon": .string(p.key.canonical), "phoneHash": .string(String(p.phoneHash.prefix(16)))])
        return JSONResponse.make(
            status: .accepted,
            .object([
                "sent": .bool(true), "coupon": .string(p.key.canonical), "to": .string(PhoneNumber.masked(p.phone)),
                "expiresIn": .int(api.codes.ttlMs / 1000), "maxTries": .int(Int64(api.codes.maxTries)),
            ]))
    }

    /// The one-time code of a body: 6 digits (full-width digits accepted), else `otp_wrong`.
    static func code(_ o: [String: JSONValue]) throws(ChainError) -> String {
        guard let raw = o["code"]?.stringValue, raw.unicodeScalars.count <= 12 else {
            throw ChainError(.badArgs, "\"code\" must be the 6-digit code sent to the phone")
        }
        var digits = ""
        for u in raw.unicodeScalars {
            switch u.value {
            case 0x30...0x39: digits.unicodeScalars.append(u)
            case 0xFF10...0xFF19: digits.unicodeScalars.append(Unicode.Scalar(UInt8(u.value - 0xFF10 + 0x30)))
            case 0x20, 0x3000: continue
            default: throw ChainError(.badArgs, "\"code\" must be the 6-digit code sent to the phone")
            }
        }
        guard digits.count == 6 else { throw ChainError(.badArgs, "\"code\" must be the 6-digit code sent to the phone") }
        return digits
    }

    /// `POST /v1/coupons/{gcn}/book {secret, phone, code, city}`: the gateway signs
    /// `book_redemption {gcn, secretHash, phoneHash, city}` and waits for its commit (200
    /// `{txid, status: committed, coupon, city}`; 202 `pending` past the wait). At the counter the
    /// merchant's staff does the same with the consumer's phone and the code the consumer reads out,
    /// then signs `redeem`.
    func book(_ request: Request, gcn: String, logger: Logger) async throws -> Response {
        let (gateway, _) = try gateway()
        let now = ChainNode.nowMillis()
        if let wait = api.limits.couponActionsPerClient?.take(RequestOrigin.address, now: now) {
            return PublicRateLimits.refusal(wait, "too many bookings and gifts from this address")
        }
        let o = try await RequestInput.jsonObjectBody(
            request, limit: Self.maxBody, maxDepth: 2, allowed: ["secret", "phone", "code", "city"])
        let code = try Self.code(o)
        let city: String
        do {
            guard let c = try CrabRoutes.city(o["city"]?.stringValue) else { throw ChainError(.badArgs, "no city") }
            city = c
        } catch {
            throw ChainError(.badArgs, "\"city\" must be 1–\(CrabRoutes.maxCity) characters without control characters")
        }
        if PersonalData.contains(in: city) {
            throw ChainError(.personalData, "\"city\" holds what looks like a phone or ID number: give the city only")
        }
        let p = try present(gcn: gcn, body: o, gateway: gateway, now: now)
        try api.codes.consume(code, for: p.codeKey, now: now)
        let call = CrabCall.bookRedemption(gcn: p.gcn, secretHash: p.secretHash, phoneHash: p.phoneHash, city: city)
        var answer = try await signAndWait(call, gateway: gateway, now: now)
        answer["coupon"] = .string(p.key.canonical)
        answer["city"] = .string(city)
        logger.info("coupon booked", metadata: ["coupon": .string(p.key.canonical)])
        return JSONResponse.make(status: answer["status"] == .string("pending") ? .accepted : .ok, .object(answer))
    }

    /// `POST /v1/coupons/{gcn}/transfer {secret, phone, code, toPhone}`: the holder (phone proved by
    /// its code) gives the coupon to another phone; the gateway signs `transfer_coupon {gcn,
    /// toHolderHash, secretHash}` with the receiver's salted phone hash. From then on only the
    /// receiver's phone books or gives it (`not_holder`). A booked coupon is not given (`bad_state`).
    func transfer(_ request: Request, gcn: String, logger: Logger) async throws -> Response {
        let (gateway, _) = try gateway()
        let now = ChainNode.nowMillis()
        if let wait = api.limits.couponActionsPerClient?.take(RequestOrigin.address, now: now) {
            return PublicRateLimits.refusal(wait, "too many bookings and gifts from this address")
        }
        let o = try await RequestInput.jsonObjectBody(
            request, limit: Self.maxBody, maxDepth: 2, allowed: ["secret", "phone", "code", "toPhone"])
        let code = try Self.code(o)
        guard let rawTo = o["toPhone"]?.stringValue else {
            throw ChainError(.badPhone, "\"toPhone\" must be the receiver's phone number")
        }
        let to = try PhoneNumber.normalize(rawTo)
        let p = try present(gcn: gcn, body: o, gateway: gateway, now: now)
        guard to != p.phone else { throw ChainError(.badArgs, "\"toPhone\" is the giver's own phone") }
        guard ["issued", "sold"].contains(p.coupon["status"]?.stringValue ?? "") else {
            throw ChainError(.badState, "coupon \(p.key.canonical) is booked for redemption: it can no longer be given")
        }
        try api.codes.consume(code, for: p.codeKey, now: now)
        let toHash = gateway.complaints.phoneHash(to)
        let call = CrabCall.transferCoupon(gcn: p.gcn, toHolderHash: toHash, secretHash: p.secretHash)
        var answer = try await signAndWait(call, gateway: gateway, now: now)
        answer["coupon"] = .string(p.key.canonical)
        answer["to"] = .string(PhoneNumber.masked(to))
        logger.info("coupon given", metadata: ["coupon": .string(p.key.canonical)])
        return JSONResponse.make(status: answer["status"] == .string("pending") ? .accepted : .ok, .object(answer))
    }

    /// Signs `call` as the gateway, submits it and waits for its commit: `{txid, status}`, or the
    /// contract's refusal as an error.
    func signAndWait(_ call: ContractCall, gateway: CrabGateway, now: Int64) async throws -> [String: JSONValue] {
        let tx = try gateway.identity.transaction(chain: node.chainId, call: call, timestamp: now)
        guard let outcome = try await api.admission.submitAndWait(tx, timeout: api.maxWait) else {
            return ["txid": .string(tx.txid), "status": .string("pending")]
        }
        if let e = outcome.error { throw e }
        return ["txid": .string(tx.txid), "status": .string("committed"), "height": .int(Int64(outcome.height))]
    }
}
