import ChainCore
import Execution
import Foundation
import GovernanceContract
import Hummingbird
import Identity
import Node
import Storage

/// The chain's configuration and its governance, for everyone to read (`docs/governance.md`):
/// the configuration in force, proposals with their votes and outcome, and the validator epochs.
/// Proposals and votes are transactions of the `governance` contract (`POST /v1/txs`, or
/// `/v1/console/tx` from an admin's session).
struct GovernanceRoutes: Sendable {
    let api: APIContext
    var node: ChainNode { api.node }
    var queries: GovernanceQueries { GovernanceQueries(state: node.store, initial: node.configSource.initial) }

    var routes: RouteCollection<NodeRequestContext> {
        let r = RouteCollection(context: NodeRequestContext.self)
        r.get("config") { _, _ in try self.config() }
        r.get("proposals") { request, _ in try self.proposals(request) }
        r.get("proposals/:id") { _, context in try self.proposal(context.parameters.require("id")) }
        r.get("epochs") { _, _ in try self.epochs() }
        return r
    }

    /// `GET /v1/governance/config`: the configuration in force, its hash, and certificate warnings.
    func config() throws -> Response {
        let config = try queries.config()
        let json = try JSONParser().parse(config.canonicalBytes)
        return JSONResponse.make(
            .object([
                "config": json, "hash": .string(config.hash.hex),
                "warnings": .array(Self.warnings(config, now: ChainNode.nowMillis()).map(JSONValue.string)),
            ]))
    }

    /// `GET /v1/governance/proposals?open=true&limit=N`: newest first.
    func proposals(_ request: Request) throws -> Response {
        let q = request.uri.queryParameters
        let open = try RequestInput.flag(q.get("open"), "open")
        let limit = try RequestInput.limit(q.get("limit"), max: 500)
        return JSONResponse.make(
            .object(["proposals": .array(try queries.proposals(openOnly: open, now: ChainNode.nowMillis(), limit: limit))]))
    }

    /// `GET /v1/governance/proposals/{id}`.
    func proposal(_ id: String) throws -> Response {
        guard id.utf8.count <= 32, let p = try queries.proposal(id, now: ChainNode.nowMillis()) else {
            throw ChainError(.notFound, "no proposal \(id.prefix(32))")
        }
        return JSONResponse.make(p)
    }

    /// `GET /v1/governance/epochs`: each validator-set change and the height its epoch starts at.
    func epochs() throws -> Response {
        let list = try queries.epochs().map { record -> JSONValue in
            var o = record.objectValue ?? [:]
            if let n = record["epoch"]?.int64Value, let change = try node.epochChange(UInt64(n)) {
                o["change"] = change.json(signatures: try node.store.epochSignatures(epoch: UInt64(n)))
            }
            return .object(o)
        }
        return JSONResponse.make(.object(["epochs": .array(list)]))
    }

    /// What operators should act on: no role policy, certificates that expire within 30 days.
    static func warnings(_ config: ChainConfig, now: Int64) -> [String] {
        var out: [String] = []
        if !config.hasRolePolicy {
            out.append(
                "no role policy: the genesis gives no org a list of roles, so any org's CA may issue any role (set one with set_roles)"
            )
        }
        let soon = Double(now) / 1000 + 30 * 86400
        func check(_ pem: String, _ what: String) {
            guard let c = try? CertificateInfo(pem: pem) else { return }
            let days = Int((c.notAfter.timeIntervalSince1970 - Double(now) / 1000) / 86400)
            if c.notAfter.timeIntervalSince1970 < Double(now) / 1000 {
                out.append("\(what) has expired")
            } else if c.notAfter.timeIntervalSince1970 < soon {
                out.append("\(what) expires in \(days) day\(days == 1 ? "" : "s")")
            }
        }
        for org in config.orgs {
            for pem in org.roots { check(pem, "the CA certificate of \(org.name)") }
            for i in org.issuers { check(i.certificate, "an issuing CA certificate of \(org.name)") }
        }
        for v in config.validators { check(v.certificate, "the node certificate of validator \(v.nodeId)") }
        return out
    }
}
