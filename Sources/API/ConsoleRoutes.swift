import Accounts
import ChainCore
import CodeSheet
import CrabTraceContract
import Execution
import Foundation
import HTTPTypes
import Hummingbird
import Identity
import NIOCore
import Node
import Storage

/// What the console routes need: the account store and the org CA that issues account certificates.
public struct ConsoleAccounts: Sendable {
    /// Accounts, sessions, audit.
    public let store: AccountStore
    /// The org CA (nil: accounts cannot be created or reset, `accounts_unavailable`).
    public let ca: CertificateAuthority?
    /// CAs of member orgs without a node of their own whose accounts this node hosts (the
    /// one-stop platform of, e.g., the association), by org.
    public let hosted: [String: CertificateAuthority]

    /// Creates the console's accounts.
    public init(store: AccountStore, ca: CertificateAuthority?, hosted: [CertificateAuthority] = []) {
        self.store = store
        self.ca = ca
        self.hosted = Dictionary(hosted.map { ($0.org, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The CA that issues accounts of `org` on this node, if any.
    public func ca(for org: String) -> CertificateAuthority? {
        if let ca, ca.org == org { return ca }
        return hosted[org]
    }
}

/// The web console's routes under `/v1/console` (`docs/accounts.md`, `docs/openapi.yaml` tag
/// `console`): sign-in sessions, signing on behalf of the account, the oversight reads (shared
/// with the signed-request routes), account administration, the audit log and code sheets.
struct ConsoleRoutes: Sendable {
    let api: APIContext
    /// The crab routes whose answers the console's oversight reads share.
    let crab: CrabRoutes
    /// The WebAssembly contract routes, whose query gate the console's signed-in queries share.
    let contracts: ContractRoutes
    var node: ChainNode { api.node }
    var console: ConsoleAccounts? { api.console }
    /// Name of the session cookie.
    static let sessionCookie = "xc_session"
    /// Largest console request body (except `/v1/console/tx`), bytes.
    static let maxConsoleBody = 16 * 1024
    /// Most codes per `/v1/console/codes`.
    static let maxConsoleCodes = 200

    var routes: RouteCollection<NodeRequestContext> {
        let router = RouteCollection(context: NodeRequestContext.self)
        router.post("signin") { request, _ in try await self.signIn(request) }
        router.post("signout") { request, _ in try self.signOut(request) }
        router.get("me") { request, _ in
            let (_, s) = try self.consoleSession(request)
            return JSONResponse.make(.object(["account": s.account.json]))
        }
        router.post("tx") { request, _ in try await self.consoleTx(request) }
        router.get("trace") { request, _ in
            try await self.audited(request, "trace", roles: [.regulator], detail: request.uri.query ?? "") { _ in
                try self.crab.accountabilityAnswer(request)
            }
        }
        router.get("alerts") { request, _ in
            try await self.audited(request, "alerts", roles: CrabRoutes.oversightRoles, detail: request.uri.query ?? "") { _ in
                try self.crab.alertsAnswer(request)
            }
        }
        router.get("complaints") { request, _ in
            try await self.audited(request, "complaints", roles: CrabRoutes.oversightRoles, detail: request.uri.query ?? "") {
                s in
                try self.crab.complaintsAnswer(request, role: s.account.role)
            }
        }
        router.post("complaints/:txid/hide") { request, context in
            try await self.hideComplaint(request, context.parameters.require("txid"))
        }
        router.get("accounts") { request, _ in
            try await self.audited(request, "accounts.list", roles: Self.accountManagers, detail: request.uri.query ?? "") { s in
                let q = try RequestInput.strictQuery(request)
                var list: [Account] = []
                for org in try self.managedOrgs(s, asked: q["org"]) { list += try self.accountsStore().accounts(org: org) }
                return JSONResponse.make(.object(["accounts": .array(list.map(\.adminJSON))]))
            }
        }
        router.get("stock") { request, _ in
            try await self.audited(
                request, "stock", roles: [.merchant, .association, .regulator], detail: request.uri.query ?? ""
            ) { s in try self.stock(request, session: s) }
        }
        router.post("accounts") { request, _ in try await self.createAccount(request) }
        router.post("accounts/:username/suspend") { request, context in
            try await self.setStatus(request, context.parameters.require("username"), active: false)
        }
        router.post("accounts/:username/reinstate") { request, context in
            try await self.setStatus(request, context.parameters.require("username"), active: true)
        }
        router.post("accounts/:username/reset") { request, context in
            try await self.resetPassword(request, context.parameters.require("username"))
        }
        router.get("audit") { request, _ in
            try await self.audited(request, "audit.read", roles: [.admin, .regulator], detail: request.uri.query ?? "") { s in
                let q = request.uri.queryParameters
                let after = try RequestInput.sequence(q.get("after"), "after")
                let limit = try RequestInput.limit(q.get("limit"), max: CrabQueries.maxPage)
                let org = s.account.role == .regulator ? nil : s.account.org
                let entries = try self.accountsStore().auditLog.entries(org: org, after: after, limit: limit)
                return JSONResponse.make(.object(["entries": .array(entries.map(JSONViews.audit))]))
            }
        }
        router.post("codes") { request, _ in try await self.codes(request) }
        router.post("wasm/query") { request, _ in try await self.wasmQuery(request) }
        return router
    }

    /// Longest reason for hiding a complaint's text, characters.
    static let maxHideReason = 200

    /// `POST /v1/console/complaints/{txid}/hide {reason}` (association, regulator): hides a
    /// complaint's text on this node (the desk no longer shows it; the chain keeps its hash), with
    /// the reason in the audit log and beside the contact; the other nodes of the org follow
    /// (HostingReplica). 404 `not_found` when this node holds no such complaint.
    func hideComplaint(_ request: Request, _ txid: String) async throws -> Response {
        guard Hex.isLowercase(txid, byteCount: 32) else {
            throw ChainError(.invalidParameter, "txid must be 64 lowercase hex characters")
        }
        let body = try await Self.consoleBody(request, allowed: ["reason"])
        let reason = body["reason"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return try await audited(
            request, "complaint.hide", roles: CrabRoutes.oversightRoles, detail: "\(txid): \(reason.prefix(Self.maxHideReason))"
        ) { s in
            guard !reason.isEmpty, reason.unicodeScalars.count <= Self.maxHideReason,
                !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw ChainError(.badArgs, "\"reason\" must be 1–\(Self.maxHideReason) characters without control characters")
            }
            guard let complaints = api.gateway?.complaints else {
                throw ChainError(.notFound, "this node holds no complaint contacts")
            }
            let now = ChainNode.nowMillis()
            let changed = try complaints.hide(
                txid: txid, by: "\(s.account.org)/\(s.account.username)", reason: reason, at: now)
            return JSONResponse.make(
                .object(["txid": .string(txid), "textHidden": .bool(true), "alreadyHidden": .bool(!changed)]))
        }
    }

    // MARK: sessions

    func accountsStore() throws(ChainError) -> AccountStore {
        guard let console else { throw ChainError(.accountsUnavailable, "this node serves no console accounts") }
        return console.store
    }

    /// The session token of a request: `Authorization: Bearer …` or the `xc_session` cookie.
    static func sessionToken(_ request: Request) -> String? {
        if let auth = request.headers[.authorization], auth.hasPrefix("Bearer ") {
            let t = auth.dropFirst(7).trimmingCharacters(in: .whitespaces)
            return t.isEmpty || t.utf8.count > 256 ? nil : t
        }
        for field in request.headers[values: .cookie] {
            for part in field.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces)
                if kv.hasPrefix("\(sessionCookie)=") {
                    let t = String(kv.dropFirst(sessionCookie.count + 1))
                    return t.isEmpty || t.utf8.count > 256 ? nil : t
                }
            }
        }
        return nil
    }

    /// The caller's session (`unauthenticated` without a live one).
    func consoleSession(_ request: Request) throws(ChainError) -> (AccountStore, Session) {
        let store = try accountsStore()
        guard let token = Self.sessionToken(request) else {
            throw ChainError(.unauthenticated, "sign in first: send the xc_session cookie or Authorization: Bearer <token>")
        }
        try Self.checkSameOrigin(request)
        let session = try store.sessions.session(token: token)
        try checkCertificate(session, store: store)
        return (store, session)
    }

    /// The session's certificate must still be good under the chain configuration in force (its
    /// org may hold its role; it is not revoked); otherwise the session ends.
    func checkCertificate(_ session: Session, store: AccountStore) throws(ChainError) {
        do {
            _ = try node.verifier.membership.verify(
                certificateDER: session.identity.certificateDER,
                at: Date(timeIntervalSince1970: Double(ChainNode.nowMillis()) / 1000))
        } catch {
            try? store.sessions.end(token: session.token)
            throw error
        }
    }

    /// The client's address (`RequestOrigin`: the connection's peer, or what a trusted proxy says).
    static func remote(_ request: Request) -> String { RequestOrigin.address }

    /// Runs a console action for a session holding one of `roles`, writing its outcome to the audit log.
    func audited(
        _ request: Request, _ action: String, roles: Set<Role>, detail: String,
        _ body: (Session) async throws -> Response
    ) async throws -> Response {
        let (store, session) = try consoleSession(request)
        func log(_ result: String) {
            try? store.auditLog.append(
                org: session.account.org, username: session.account.username, action: action, detail: detail,
                result: result, remote: Self.remote(request))
        }
        guard roles.contains(session.account.role) else {
            log("forbidden")
            throw ChainError(
                .forbidden,
                "this route is for role \(roles.map(\.rawValue).sorted().joined(separator: " or ")); the account has \(session.account.role.rawValue)"
            )
        }
        do {
            let response = try await body(session)
            log("ok")
            return response
        } catch let e as ChainError {
            log(e.code.rawValue)
            throw e
        } catch {
            log("internal_error")
            throw error
        }
    }

    /// Reads a JSON object body of at most `limit` bytes with only `allowed` keys.
    static func consoleBody(_ request: Request, limit: Int = maxConsoleBody, allowed: Set<String>) async throws
        -> [String: JSONValue]
    {
        try await RequestInput.jsonObjectBody(request, limit: limit, maxDepth: 32, allowed: allowed)
    }

    static func string(_ o: [String: JSONValue], _ key: String, max: Int = 256) throws(ChainError) -> String {
        guard let s = o[key]?.stringValue, s.utf8.count <= max else {
            throw ChainError(.badArgs, "\"\(key)\" must be a string of at most \(max) bytes")
        }
        return s
    }

    /// The session cookie: HttpOnly, SameSite=Strict, and Secure when the node serves HTTPS.
    static func cookie(_ value: String, maxAge: Int, secure: Bool) -> String {
        "\(sessionCookie)=\(value); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(maxAge)\(secure ? "; Secure" : "")"
    }

    /// True when this node's API speaks HTTPS (its cookies are then sent over HTTPS only).
    var secureCookies: Bool { api.node.config.apiTLSCertificate != nil }

    /// A request authenticated by the session cookie alone (no Authorization header) that changes
    /// something must come from the console's own pages: JSON (a cross-site form can only send
    /// form or text bodies), and from the node's own origin when the browser names one.
    static func checkSameOrigin(_ request: Request) throws(ChainError) {
        guard request.headers[.authorization] == nil, request.method != .get, request.method != .head else { return }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw ChainError(
                .forbidden,
                "a request signed in by cookie must send Content-Type: application/json (cross-site forms are refused)")
        }
        if let origin = request.headers[.origin] {
            // Browsers leave default ports out of both Origin and Host, so they compare as they are.
            let authority = (request.head.authority ?? "").lowercased()
            let url = URL(string: origin)
            let originAuthority = (url?.host ?? "").lowercased() + (url?.port.map { ":\($0)" } ?? "")
            guard url?.host != nil, originAuthority == authority else {
                throw ChainError(.forbidden, "cross-origin request refused (Origin \(origin.prefix(100)) is not this node)")
            }
        }
    }

    func signIn(_ request: Request) async throws -> Response {
        let store = try accountsStore()
        let o = try await Self.consoleBody(request, allowed: ["org", "username", "password"])
        let org = try Self.string(o, "org", max: 64)
        let username = try Self.string(o, "username", max: 64)
        let password = try Self.string(o, "password", max: 1024)
        func log(_ result: String) {
            try? store.auditLog.append(
                org: org, username: username, action: "signin", detail: "", result: result, remote: Self.remote(request))
        }
        do {
            let source = Self.remote(request)
            let s = try await store.hashing.run {
                try store.signIn(org: org, username: username, password: password, source: source)
            }
            try checkCertificate(s, store: store)
            log("ok")
            // An account created offline (`xiangchain account create`) puts its real-name evidence at first sign-in.
            if s.account.realNameTxid == nil {
                _ = try? await submitRealName(store: store, account: s.account, identity: s.identity)
            }
            var headers = HTTPFields()
            headers[.setCookie] = Self.cookie(s.token, maxAge: Int(AccountStore.maxSessionMillis / 1000), secure: secureCookies)
            return JSONResponse.make(
                .object(["token": .string(s.token), "expiresAt": .int(s.expiresAt), "account": s.account.json]),
                headers: headers)
        } catch let throttled as SignInThrottled {
            log(ErrorCode.tooManyRequests.rawValue)
            var headers = HTTPFields()
            headers[.retryAfter] = String(throttled.retryAfter)
            return JSONResponse.make(
                status: APIError.status(for: ErrorCode.tooManyRequests),
                .object([
                    "error": APIError.errorObject(
                        ChainError(.tooManyRequests, "too many failed sign-ins; retry in \(throttled.retryAfter) s")),
                    "retryAfter": .int(throttled.retryAfter),
                ]), headers: headers)
        } catch let e as ChainError {
            log(e.code.rawValue)
            throw e
        }
    }

    func signOut(_ request: Request) throws -> Response {
        let (store, s) = try consoleSession(request)
        try store.sessions.end(token: s.token)
        try? store.auditLog.append(
            org: s.account.org, username: s.account.username, action: "signout", detail: "", result: "ok",
            remote: Self.remote(request))
        var headers = HTTPFields()
        headers[.setCookie] = Self.cookie("", maxAge: 0, secure: secureCookies)
        return Response(status: .noContent, headers: headers)
    }

    // MARK: signing on behalf

    func consoleTx(_ request: Request) async throws -> Response {
        let o = try await Self.consoleBody(
            request, limit: node.config.maxBodyBytes, allowed: ["contract", "method", "args"])
        let detail = "\(o["contract"]?.stringValue?.prefix(64) ?? "").\(o["method"]?.stringValue?.prefix(64) ?? "")"
        return try await audited(request, "tx", roles: AccountStore.assignableRoles, detail: detail) { s in
            let contract = try Self.string(o, "contract", max: 64)
            let method = try Self.string(o, "method", max: 64)
            guard let args = o["args"], args.objectValue != nil else {
                throw ChainError(.badArgs, "\"args\" must be an object")
            }
            let tx = try s.identity.transaction(
                chain: node.chainId, contract: contract, method: method, args: args, timestamp: ChainNode.nowMillis())
            return try await api.admitAndWait(tx, request)
        }
    }

    /// `POST /v1/console/wasm/query {contract, method, args}`: a read-only query of a WebAssembly
    /// contract as the signed-in account (org, role, subject and certificate fingerprint of its
    /// certificate), for what a contract shows only to some roles (the 三资 reviewer's queue).
    /// Same gate and fuel as the anonymous `POST /v1/wasm/contracts/{name}/query`; audited.
    func wasmQuery(_ request: Request) async throws -> Response {
        let o = try await Self.consoleBody(
            request, limit: ContractRoutes.maxQueryBody, allowed: ["contract", "method", "args"])
        let detail = "\(o["contract"]?.stringValue?.prefix(64) ?? "").\(o["method"]?.stringValue?.prefix(64) ?? "")"
        return try await audited(request, "wasm.query", roles: AccountStore.assignableRoles, detail: detail) { s in
            let contract = try Self.string(o, "contract", max: 64)
            let method = try Self.string(o, "method", max: 128)
            let args = o["args"] ?? .object([:])
            guard args.objectValue != nil else { throw ChainError(.badArgs, "\"args\" must be an object") }
            let der = s.identity.certificateDER
            let signer = WasmSigner(
                org: s.account.org, role: s.account.role.rawValue,
                subject: (try? CertificateInfo(der: der))?.commonName ?? s.account.username,
                certificateFingerprint: Hash256.sha256(der).hex)
            let outcome = try await contracts.run(contract, method: method, args: args, signer: signer)
            return JSONResponse.make(.object(["result": outcome.result, "fuelUsed": .int(Int64(outcome.fuelUsed))]))
        }
    }

    // MARK: admin

    /// The CA for accounts of `org`: the node's own org CA, or a hosted member org's.
    func accountCA(for org: String) throws(ChainError) -> CertificateAuthority {
        guard let console, console.ca != nil || !console.hosted.isEmpty else {
            throw ChainError(.accountsUnavailable, "this node has no account CA (accountCA in config.json)")
        }
        guard let ca = console.ca(for: org) else {
            throw ChainError(.forbidden, "this node issues no accounts of org \(org)")
        }
        return ca
    }

    /// Who manages accounts in the console: an org's admin (its own org), and the association
    /// running the one-stop platform (the registered crab members this node hosts,
    /// `hostedAccountCAs`: a shop, lab or carrier without a node of its own and so without an
    /// admin here; their staff accounts, in the member's registered role).
    static let accountManagers: Set<Role> = [.admin, .association]

    /// The orgs whose accounts `s` manages here: an admin's own org; for the association the
    /// hosted registered member `asked`, or all of them when none is named (`forbidden` for any other org).
    func managedOrgs(_ s: Session, asked: String?) throws(ChainError) -> [String] {
        guard s.account.role == .association else {
            guard asked == nil || asked == s.account.org else {
                throw ChainError(.forbidden, "an admin manages the accounts of its own org only")
            }
            return [s.account.org]
        }
        // Hosted orgs that are registered crab members (farm, merchant, lab, logistics): not the
        // regulator's, a village's or a township's org, which a node may host too.
        let hosted = Set((console?.hosted.keys).map(Array.init) ?? []).filter {
            $0 != s.account.org && (try? crab.crabQueries.member($0)) != nil
        }
        if let asked {
            guard hosted.contains(asked) else {
                throw ChainError(
                    .forbidden, "the association manages the accounts of the registered member orgs this node hosts only")
            }
            return [asked]
        }
        return hosted.sorted()
    }

    /// The association creates accounts of a hosted member only in the role it is registered in.
    func requireMemberRole(_ s: Session, org: String, role: Role) throws(ChainError) {
        guard s.account.role == .association else { return }
        let registered = (try? crab.crabQueries.member(org))??["role"]?.stringValue
        guard registered == role.rawValue else {
            throw ChainError(
                .forbidden, "member \(org) is registered as \(registered ?? "nothing"): its staff accounts hold that role")
        }
    }

    /// `GET /v1/console/stock?season=&org=`: a merchant's stock view (`CrabQueries.stockView`);
    /// a merchant reads its own, the association and the regulator any merchant's.
    func stock(_ request: Request, session s: Session) throws -> Response {
        let q = try RequestInput.strictQuery(request)
        guard let season = q["season"], CrabRoutes.isName(season) else {
            throw ChainError(.invalidParameter, "season is required (1–64 characters without / or controls)")
        }
        let org = q["org"] ?? s.account.org
        guard CrabRoutes.isName(org) else {
            throw ChainError(.invalidParameter, "org must be 1–64 characters without / or controls")
        }
        guard s.account.role != .merchant || org == s.account.org else {
            throw ChainError(.forbidden, "a merchant reads its own stock only")
        }
        guard let view = try crab.crabQueries.stockView(season: season, org: org) else {
            throw ChainError(.notFound, "no season \(season)")
        }
        return JSONResponse.make(view)
    }

    func createAccount(_ request: Request) async throws -> Response {
        let o = try await Self.consoleBody(
            request, allowed: ["username", "name", "idNumber", "phone", "role", "password", "org"])
        let detail = String((o["username"]?.stringValue ?? "").prefix(64))
        return try await audited(request, "accounts.create", roles: Self.accountManagers, detail: detail) { s in
            let username = try Self.string(o, "username", max: 64)
            let asked = o["org"] == nil ? nil : try Self.string(o, "org", max: 64)
            guard let target = try managedOrgs(s, asked: asked ?? (s.account.role == .association ? "" : nil)).first else {
                throw ChainError(.forbidden, "no org to create the account in")
            }
            let ca = try accountCA(for: target)
            guard let role = Role(rawValue: try Self.string(o, "role", max: 32)) else {
                throw ChainError(.badArgs, "unknown role")
            }
            // The platform creates staff accounts in the member's registered role; never an admin
            // (an org's admin votes in governance for it: that is the org's own).
            try requireMemberRole(s, org: target, role: role)
            // The chain's role policy: an org's console creates only roles the org may hold.
            guard let org = node.chainConfig.org(ca.org), org.permits(role) else {
                throw ChainError(
                    .roleNotPermitted, "org \(ca.org) may not hold role \(role.rawValue) under the chain's role policy")
            }
            let new = NewAccount(
                username: username, name: try Self.string(o, "name"), idNumber: try Self.string(o, "idNumber"),
                phone: try Self.string(o, "phone"), role: role, password: try Self.string(o, "password", max: 1024))
            let store = try accountsStore()
            let suite = node.genesis.suite
            let (account, identity) = try await store.hashing.run { try store.create(new, ca: ca, suite: suite) }
            let txid = try await submitRealName(store: store, account: account, identity: identity)
            return JSONResponse.make(
                status: .created, .object(["account": account.adminJSON, "realNameTxid": txid.map { .string($0) } ?? .null]))
        }
    }

    /// Signs `evidence.put {hash: realNameHash, kind: real-name, meta: {org, username, role}}` as the
    /// account and submits it; returns its txid (nil when the node refused it; the account stays).
    func submitRealName(store: AccountStore, account: Account, identity: SigningIdentity) async throws -> String? {
        guard let hash = try store.realNameHash(org: account.org, username: account.username) else { return nil }
        let args: JSONValue = .object([
            "hash": .string(hash), "kind": .string("real-name"),
            "meta": .object([
                "org": .string(account.org), "username": .string(account.username), "role": .string(account.role.rawValue),
            ]),
        ])
        let tx = try identity.transaction(
            chain: node.chainId, contract: "evidence", method: "put", args: args, timestamp: ChainNode.nowMillis())
        do {
            try await api.admission.submit(tx)
        } catch let e as ChainError {
            try? store.auditLog.append(
                org: account.org, username: account.username, action: "real-name.submit", detail: e.message,
                result: e.code.rawValue, remote: "-")
            return nil
        }
        try store.setRealNameTxid(org: account.org, username: account.username, txid: tx.txid)
        return tx.txid
    }

    func setStatus(_ request: Request, _ username: String, active: Bool) async throws -> Response {
        try await audited(request, active ? "accounts.reinstate" : "accounts.suspend", roles: [.admin], detail: username) {
            s in
            guard username != s.account.username else { throw ChainError(.badArgs, "an admin cannot suspend itself") }
            let store = try accountsStore()
            try store.setStatus(org: s.account.org, username: username, active: active)
            let a = try store.account(org: s.account.org, username: username)
            var o: [String: JSONValue] = ["account": a?.adminJSON ?? .null]
            if !active, let a {
                // Suspension also revokes the account's certificate on chain (the org's own
                // revocation, signed by this admin): its key signs nothing from the next block on.
                // Reinstating needs a password reset, which issues a new key and certificate.
                o["revocation"] = await revoke(a, by: s)
            }
            return JSONResponse.make(.object(o))
        }
    }

    /// Submits `governance.revoke_own` of the account's certificate signed by `admin`; the answer's
    /// `{txid}` or `{error}`.
    func revoke(_ account: Account, by admin: Session) async -> JSONValue {
        do {
            let tx = try admin.identity.transaction(
                chain: node.chainId, contract: "governance", method: "revoke_own",
                args: .object(["certificates": .array([.string(account.certificatePEM)])]), timestamp: ChainNode.nowMillis())
            try await api.admission.submit(tx)
            return .object(["txid": .string(tx.txid)])
        } catch let e as ChainError {
            return .object(["error": APIError.errorObject(e)])
        } catch {
            return .object(["error": APIError.errorObject(ChainError(.internalError, "\(error)"))])
        }
    }

    func resetPassword(_ request: Request, _ username: String) async throws -> Response {
        let o = try await Self.consoleBody(request, allowed: ["password"])
        return try await audited(request, "accounts.reset", roles: [.admin], detail: username) { s in
            let ca = try accountCA(for: s.account.org)
            let store = try accountsStore()
            let password = try Self.string(o, "password", max: 1024)
            let (org, suite) = (s.account.org, node.genesis.suite)
            _ = try await store.hashing.run {
                try store.resetPassword(org: org, username: username, password: password, ca: ca, suite: suite)
            }
            let a = try store.account(org: s.account.org, username: username)
            return JSONResponse.make(.object(["account": a?.adminJSON ?? .null, "keyReplaced": .bool(true)]))
        }
    }

    // MARK: codes

    func codes(_ request: Request) async throws -> Response {
        let o = try await Self.consoleBody(request, allowed: ["kind", "gtin", "gcnBase", "from", "count", "prefix"])
        // Rings are the association's; coupons are printed by the merchant that issues them (or the association).
        return try await audited(request, "codes", roles: [.association, .merchant], detail: o["kind"]?.stringValue ?? "") { s in
            let kind = try Self.string(o, "kind", max: 16)
            guard kind != "rings" || s.account.role == .association else {
                throw ChainError(.forbidden, "ring codes are commissioned by the association")
            }
            guard let from = o["from"]?.int64Value, from >= 0, from < 1_000_000 else {
                throw ChainError(.badArgs, "\"from\" must be an integer 0–999999")
            }
            guard let count = o["count"]?.int64Value, (1...Int64(Self.maxConsoleCodes)).contains(count) else {
                throw ChainError(.badArgs, "\"count\" must be 1–\(Self.maxConsoleCodes)")
            }
            let serials = Int(from)...Int(from + count - 1)
            var rng = SystemRandomNumberGenerator()
            let resolver = node.config.resolver
            let batch: CodeBatch
            switch kind {
            case "rings":
                let gtin = try Self.string(o, "gtin", max: 14)
                let prefix = o["prefix"] == nil ? "" : try Self.string(o, "prefix", max: 12)
                batch = try CodeBatch.rings(
                    gtin: gtin, serials: serials, prefix: prefix, width: 6, resolver: resolver, using: &rng)
            case "coupons":
                let base = try Self.string(o, "gcnBase", max: 12)
                batch = try CodeBatch.coupons(base12: base, serials: serials, width: 6, resolver: resolver, using: &rng)
            default:
                throw ChainError(.badArgs, "\"kind\" must be rings or coupons")
            }
            let pages = try batch.sheet().svgPages()
            return JSONResponse.make(
                .object([
                    "svg": .array(pages.map { .string($0) }), "commission": batch.commission, "csv": .string(batch.csv),
                ]))
        }
    }
}
