import ChainCore
import CrabTraceContract
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import NIOCore
import Node
import Storage

/// The crab anti-counterfeiting routes (described in `docs/openapi.yaml` under the tag `crab`;
/// signed requests in `docs/api-auth.md`): the public verify and complaint routes, whose
/// transactions the node's gateway identity signs, and the regulator's and association's reads.
struct CrabRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }
    var gateway: CrabGateway? { api.gateway }

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.get("verify") { request, _ in try await self.verify(request) }
        r.post("complaints") { request, _ in try await self.complain(request) }
        r.get("trace/accountability") { request, _ in try self.accountability(request) }
        r.get("crab/alerts") { request, _ in try self.alerts(request) }
        r.get("crab/complaints") { request, _ in try self.complaints(request) }
        r.get("crab/members") { _, _ in try self.members() }
        r.get("crab/members/:org") { _, context in try self.member(context.parameters.require("org")) }
        r.get("crab/seasons/:id") { _, context in try self.season(context.parameters.require("id")) }
        return r
    }

    /// Longest city name, Unicode code points.
    static let maxCity = 64
    /// Longest complaint text, Unicode code points (the contract's bound).
    static let maxComplaintText = 500
    /// Largest `POST /v1/complaints` body, bytes.
    static let maxComplaintBody = 8 * 1024
    /// Roles that read alerts and complaints.
    static let oversightRoles: Set<Role> = [.regulator, .association]

    /// Queries over committed crab state, with this node's resolver.
    var crabQueries: CrabQueries {
        CrabQueries(state: node.store, config: CrabTraceConfig(resolver: node.config.resolver))
    }

    /// Authenticates a signed request (`RequestAuthenticator`) and requires one of `roles`.
    func authorize(_ request: Request, roles: Set<Role>) throws(ChainError) -> SignerIdentity {
        try api.authenticator.authorize(
            method: request.method.rawValue, target: request.head.path ?? request.uri.string, headers: request.headers,
            nowMillis: ChainNode.nowMillis(), roles: roles)
    }

    // MARK: public

    /// `GET /v1/verify?code=…&city=…&device=…`: the verdict on committed state counting this check,
    /// and the check recorded on chain.
    ///
    /// `city` is required (a scan without a place would later look like a second city). `device` is
    /// the page's own random device id (1–64 of `A–Z a–z 0–9 - _`, kept by the browser); without it
    /// the client address stands for the device. When this node has a gateway identity it signs
    /// `crab.scan {code (without secret), secretHash, city, device, source}` with the salted hashes
    /// of the device (per code) and of the client address, and submits it without waiting:
    /// `scanRecorded {txid, city, status: pending}`. The verdict counts this check as the chain will
    /// (`details.scans` includes it; an alert it raises is among the reasons); `scansBefore` is the
    /// committed count before it. A code without its secret, or with a wrong one, is recorded as a
    /// failed check of its source and changes nothing about the genuine object.
    func verify(_ request: Request) async throws -> Response {
        let now = ChainNode.nowMillis()
        let address = RequestOrigin.address
        if let wait = api.limits.verifyPerClient?.take(address, now: now) {
            return PublicRateLimits.refusal(wait, "too many lookups from this address")
        }
        let q = try RequestInput.strictQuery(request)
        let code = q["code"] ?? ""
        guard let city = try Self.city(q["city"]) else {
            throw ChainError(.invalidParameter, "city is required: the city (not the address) where the code is scanned")
        }
        let deviceId = q["device"]
        if let d = deviceId, !Self.isDeviceId(d) {
            throw ChainError(.invalidParameter, "device must be 1–64 characters of A–Z, a–z, 0–9, - and _")
        }
        let printed = try DigitalLink.parse(code)
        if let wait = api.limits.verifyPerCode?.take(printed.key.canonical, now: now) {
            return PublicRateLimits.refusal(wait, "too many lookups of this code")
        }
        // Box stickers and lot codes are printed in clear: answered, never recorded as a check.
        let checkable: Bool
        switch printed.key {
        case .sgtin, .gcn: checkable = true
        default: checkable = false
        }
        // Past the node's scan budget the lookup is answered without recording (or counting) the check.
        let overBudget = checkable && gateway != nil && api.limits.scanBudget?.take("scan", now: now) != nil
        let device =
            overBudget || !checkable
            ? nil : gateway?.deviceHash(device: deviceId.map { "id:\($0)" } ?? "addr:\(address)", object: printed.key.canonical)
        let check = device.map { ScanObservation(city: city, device: $0, time: now) }
        let before = try crabQueries.verify(code: code, now: now)
        let verdict = try check.map { try crabQueries.verify(code: code, now: now, check: $0) } ?? before
        let tip = try node.store.tip()
        var o = verdict.json.objectValue ?? [:]
        o["scansBefore"] = .int(before.details["scans"]?.int64Value ?? 0)
        o["asOf"] = .object(["height": .int(Int64(tip?.height ?? 0)), "time": .int(tip?.timestamp ?? 0)])
        o["scanRecorded"] = .null
        if let gateway, let device {
            let call = CrabCall.scan(
                code: printed.key.canonical, secretHash: CodeSecret.hash(key: printed.key, secret: printed.secret ?? ""),
                city: city, device: device, source: gateway.sourceHash(address: address))
            do {
                let tx = try gateway.identity.transaction(chain: node.chainId, call: call, timestamp: now)
                try await api.admission.submit(tx)
                o["scanRecorded"] = .object([
                    "txid": .string(tx.txid), "city": .string(city), "status": .string("pending"),
                    "note": .string(Self.pendingScanNote),
                ])
            } catch let e as ChainError {
                o["scanNotRecorded"] = APIError.errorObject(e)
            }
        } else if !checkable {
            o["scanNotRecorded"] = APIError.errorObject(
                ChainError(.badCode, "box stickers and lot codes carry no secret: their checks are not recorded"))
        } else if overBudget {
            o["scanNotRecorded"] = APIError.errorObject(
                ChainError(.tooManyRequests, "this node's budget of recorded checks is spent for this minute"))
        } else {
            o["scanNotRecorded"] = APIError.errorObject(
                ChainError(.noGateway, "this node has no gateway identity: the scan was not recorded"))
        }
        return JSONResponse.make(.object(o))
    }

    /// A page's device id: 1–64 of `A–Z a–z 0–9 - _`.
    static func isDeviceId(_ s: String) -> Bool {
        (1...64).contains(s.utf8.count)
            && s.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
            }
    }

    /// `POST /v1/complaints {code, phone, text, city?}`: the gateway signs `crab.complain` with the
    /// phone's salted hash; the phone itself is kept off chain (`OffchainComplaints`). Occurrences of
    /// the phone's digits inside `text` are replaced by `[phone]`; nothing else is changed.
    func complain(_ request: Request) async throws -> Response {
        guard let gateway else {
            throw ChainError(.gatewayUnavailable, "this node takes no complaints: it has no gateway identity")
        }
        if let wait = api.limits.complaintsPerClient?.take(RequestOrigin.address, now: ChainNode.nowMillis()) {
            return PublicRateLimits.refusal(wait, "too many complaints from this address")
        }
        let o = try await RequestInput.jsonObjectBody(
            request, limit: Self.maxComplaintBody, maxDepth: 2, allowed: ["code", "phone", "text", "city"])
        guard let code = o["code"]?.stringValue else { throw ChainError(.badCode, "\"code\" must be a string") }
        let key = try DigitalLink.parse(code).key
        guard let phone = o["phone"]?.stringValue, Self.isPhone(phone) else {
            throw ChainError(.badArgs, "\"phone\" must be 5–20 digits, optionally after a leading +")
        }
        guard let rawText = o["text"]?.stringValue else { throw ChainError(.badArgs, "\"text\" must be a string") }
        let digits = phone.hasPrefix("+") ? String(phone.dropFirst()) : phone
        let text = rawText.replacingOccurrences(of: digits, with: "[phone]")
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
            text.unicodeScalars.count <= Self.maxComplaintText
        else {
            throw ChainError(.badArgs, "\"text\" must be 1–\(Self.maxComplaintText) characters")
        }
        var city: String?
        if let c = o["city"], c != .null {
            guard let s = c.stringValue else { throw ChainError(.badArgs, "\"city\" must be a string") }
            do {
                city = try Self.city(s)
            } catch {
                throw ChainError(.badArgs, "\"city\" must be 1–\(Self.maxCity) characters without control characters")
            }
        }
        if let city, PersonalData.contains(in: city) {
            throw ChainError(.personalData, "\"city\" holds what looks like a phone or ID number: give the city only")
        }
        let now = ChainNode.nowMillis()
        let phoneHash = gateway.complaints.phoneHash(phone)
        // The text stays off chain (it may hold anything the consumer typed); the chain gets its salted hash.
        let textHash = gateway.saltedHash("XIANGCHAIN-COMPLAINT-V1", [text])
        let call = CrabCall.complain(code: key.canonical, phoneHash: phoneHash, textHash: textHash, city: city)
        let tx = try gateway.identity.transaction(chain: node.chainId, call: call, timestamp: now)
        try gateway.complaints.append(
            txid: tx.txid, phone: phone, phoneHash: phoneHash, object: key.canonical, city: city, receivedAt: now,
            text: text, textHash: textHash)
        try await api.admission.submit(tx)
        return JSONResponse.make(
            status: .accepted,
            .object(["txid": .string(tx.txid), "object": .string(key.canonical), "status": .string("pending")]))
    }

    /// `GET /v1/crab/members/{org}`: a member's registration (no personal data).
    func member(_ org: String) throws -> Response {
        guard Self.isName(org) else { throw ChainError(.invalidParameter, "org must be 1–64 characters without / or controls") }
        guard let m = try crabQueries.member(org) else { throw ChainError(.notFound, "no crab member \(org)") }
        return JSONResponse.make(m)
    }

    /// `GET /v1/crab/members`: every registered member (org, role, name, zone, …; no personal
    /// data), in org order, at most `CrabQueries.maxPage`.
    func members() throws -> Response {
        JSONResponse.make(.object(["members": .array(try crabQueries.members())]))
    }

    /// `GET /v1/crab/seasons/{id}`: a season's parameters.
    func season(_ id: String) throws -> Response {
        guard Self.isName(id) else {
            throw ChainError(.invalidParameter, "season must be 1–64 characters without / or controls")
        }
        guard let s = try crabQueries.season(id) else { throw ChainError(.notFound, "no season \(id)") }
        return JSONResponse.make(s)
    }

    // MARK: signed requests

    /// `GET /v1/trace/accountability?code=…&format=json|epcis` (regulator): every history entry on
    /// the code's path with its signer, the accountable parties, and each transaction's inclusion proof.
    func accountability(_ request: Request) throws -> Response {
        _ = try authorize(request, roles: [.regulator])
        return try accountabilityAnswer(request)
    }

    /// The answer of the accountability route, for a caller already known to be a regulator.
    func accountabilityAnswer(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        let format = q.get("format") ?? "json"
        guard format == "json" || format == "epcis" else {
            throw ChainError(.invalidParameter, "format must be json or epcis")
        }
        let queries = crabQueries
        let trace = try queries.trace(code: q.get("code") ?? "")
        if format == "epcis" {
            let export = EPCISExport(queries: queries)
            return JSONResponse.make(
                export.document(events: try export.events(for: trace.entries), creationTime: ChainNode.nowMillis()))
        }
        var seen = Set<String>()
        var proofs: [JSONValue] = []
        for e in trace.entries where seen.insert(e.txid).inserted {
            guard let id = Hash256(hex: e.txid), let proof = try api.proofJSON(id) else {
                throw ChainError(.storageCorrupt, "history names transaction \(e.txid), which is not committed")
            }
            proofs.append(proof)
        }
        var o = trace.json.objectValue ?? [:]
        o["proofs"] = .array(proofs)
        return JSONResponse.make(.object(o))
    }

    /// `GET /v1/crab/alerts?open=&kind=&object=&before=&limit=` (regulator, association): alerts
    /// newest first, `{alerts, next, openCount, openByKind}`; pass `next` as `before` for the next page.
    func alerts(_ request: Request) throws -> Response {
        _ = try authorize(request, roles: Self.oversightRoles)
        return try alertsAnswer(request)
    }

    /// The answer of the alerts route, for a caller already authorised.
    func alertsAnswer(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        let open = try q.get("open").map { try RequestInput.flag($0, "open") }
        let before = try q.get("before").map { try RequestInput.sequence($0, "before") }
        let limit = try RequestInput.limit(q.get("limit"), max: CrabQueries.maxPage)
        let kind = q.get("kind")
        if let kind, AlertKind(rawValue: kind) == nil {
            throw ChainError(
                .invalidParameter, "kind must be one of \(AlertKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var object: String?
        if let raw = q.get("object") {
            if raw.hasPrefix("source:") {
                guard raw.utf8.count == 71,
                    raw.utf8.dropFirst(7).allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
                else { throw ChainError(.invalidParameter, "object source:<hash> needs 64 lowercase hex characters") }
                object = raw
            } else {
                object = try DigitalLink.parse(raw).key.canonical
            }
        }
        let page = try crabQueries.alertPage(
            filter: CrabQueries.AlertFilter(open: open, kind: kind, object: object), before: before, limit: limit)
        return JSONResponse.make(page.json)
    }

    /// `GET /v1/crab/complaints?after=&limit=` (regulator, association). For the regulator, each
    /// complaint this node took also carries `contactPhone` from the off-chain file.
    func complaints(_ request: Request) throws -> Response {
        let signer = try authorize(request, roles: Self.oversightRoles)
        return try complaintsAnswer(request, role: signer.role)
    }

    /// The answer of the complaints route for an authorised caller of `role`.
    func complaintsAnswer(_ request: Request, role: Role) throws -> Response {
        let q = request.uri.queryParameters
        let after = try RequestInput.sequence(q.get("after"), "after")
        let limit = try RequestInput.limit(q.get("limit"), max: CrabQueries.maxPage)
        var list = try crabQueries.complaints(after: after, limit: limit)
        // The text and the phone of complaints come from the off-chain file (those this node took,
        // and those other nodes of its org took, replicated by HostingReplica): the text for both
        // oversight roles, the phone for the regulator. A hidden text is not shown (the chain
        // keeps its hash): `textHidden` with when and by whom instead.
        if let records = gateway?.complaints.records(), !records.isEmpty {
            list = list.map { c in
                guard var o = c.objectValue, let txid = o["txid"]?.stringValue, let e = records[txid] else { return c }
                if let hiddenAt = e["hiddenAt"] {
                    o["text"] = nil
                    o["textHidden"] = .bool(true)
                    o["hiddenAt"] = hiddenAt
                    o["hiddenBy"] = e["hiddenBy"] ?? .null
                } else if let text = e["text"] {
                    o["text"] = text
                }
                if role == .regulator, let phone = e["phone"] { o["contactPhone"] = phone }
                return .object(o)
            }
        }
        return JSONResponse.make(
            .object(["complaints": .array(list), "next": list.count == limit ? (list.last?["seq"] ?? .null) : .null]))
    }

    /// What `scanRecorded.status: pending` means, in the answer itself.
    static let pendingScanNote =
        "submitted, not yet committed: it counts once committed (GET /v1/txs/{txid}) and is lost if the node stops before"

    // MARK: parameters

    /// A city: 1–64 code points, trimmed; nil when absent. Refused: control and format characters
    /// (bidi overrides and isolates, zero-width joiners, which make a name display as another),
    /// line and paragraph separators, unassigned and private-use code points.
    static func city(_ raw: String?) throws(ChainError) -> String? {
        guard let raw else { return nil }
        let c = raw.trimmingCharacters(in: .whitespaces)
        guard !c.isEmpty, c.unicodeScalars.count <= maxCity, !c.unicodeScalars.contains(where: isHiddenOrInvisible) else {
            throw ChainError(
                .invalidParameter,
                "city must be 1–\(maxCity) characters without control, format (bidi), separator, unassigned or private-use characters"
            )
        }
        return c
    }

    static func isHiddenOrInvisible(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// `+` then 5–20 ASCII digits, or just the digits.
    static func isPhone(_ s: String) -> Bool {
        let digits = s.utf8.first == UInt8(ascii: "+") ? s.utf8.dropFirst() : s.utf8[...]
        return (5...20).contains(digits.count) && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// An org or season id in a path: 1–64 code points, no `/`, no control characters.
    static func isName(_ s: String) -> Bool {
        (1...64).contains(s.unicodeScalars.count)
            && !s.unicodeScalars.contains { $0 == "/" || $0.properties.generalCategory == .control }
    }
}
