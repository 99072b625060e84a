import Foundation

/// `D/demo.json`: what the demo seeded — the marker that it ran, and everything needed to try it
/// (codes with their secrets, identities, transaction ids).
struct DemoRecord: Codable, Sendable {
    /// A code worth trying, and what it shows.
    struct Highlight: Codable, Sendable {
        /// Short name, e.g. "genuine-ring".
        var name: String
        /// What it demonstrates.
        var shows: String
        /// The verdict `/v1/verify` should give.
        var expect: String
        /// Digital Link URI with `?s=` secret (what the QR code holds).
        var uri: String
        /// GS1 element string with `#secret` (for typing).
        var shortCode: String
        /// A ready `GET /v1/verify` URL (percent-encoded).
        var verifyURL: String
        /// Transactions behind it.
        var txids: [String]
        /// Where its buyer checks it (the city the demo's own scans used); records seeded before
        /// this field existed mean 苏州.
        var city: String?

        /// The city a check of this code names.
        var checkCity: String { city ?? "苏州" }
    }

    /// An identity the demo uses.
    struct Identity: Codable, Sendable {
        var actor: String
        var name: String
        var role: String
        var org: String
        var dir: String
    }

    /// A registered member org.
    struct Member: Codable, Sendable {
        var org: String
        var role: String
        var name: String
        var areaMu: Int?
        var zone: String?
        var salesRegion: [String]?
    }

    /// A printed code (ring, coupon) with its secret, or a box or lot code.
    struct Code: Codable, Sendable {
        var key: String
        var uri: String
        var shortCode: String
        var state: String
    }

    /// The 三资 village the demo seeds (`DemoVillage`).
    struct Village: Codable, Sendable {
        /// The WebAssembly contract's name (`sanzi`).
        var contract: String
        /// The village id (its org) and name.
        var village: String
        var name: String
        /// The township station's org, the reviewer.
        var township: String
        /// The public disclosure page (村务公开) and the reviewer's desk on the node.
        var disclosureURL: String
        var reviewURL: String
        /// The pond the demo crab farm fishes, its lease, and the farm.
        var pondItem: String
        var pondLease: String
        var pondFarm: String
        var pondFarmOrg: String
        /// Console accounts of the village clerk and the township reviewer.
        var clerkAccount: String
        var reviewerAccount: String
    }

    var version = 1
    var chainId: String
    var node: String
    var season: String
    var seededAt: String
    var seconds: Double
    var story: [String]
    var counts: [String: Int]
    var members: [Member]
    var identities: [Identity]
    var highlights: [Highlight]
    /// Every transaction the demo submitted, in order.
    var transactions: [TxOutcome]
    var rings: [Code]
    var coupons: [Code]
    var boxes: [Code]
    var lots: [Code]
    /// The 三资 village (records of demos seeded before it existed have none).
    var village: Village?

    /// The outcome of the step labelled `step`.
    func tx(_ step: String) -> TxOutcome? { transactions.first { $0.step == step } }

    /// Writes pretty, key-sorted JSON.
    func write(to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try enc.encode(self).write(to: url, options: .atomic)
    }

    /// Reads a record.
    static func load(from url: URL) throws -> DemoRecord {
        try JSONDecoder().decode(DemoRecord.self, from: Data(contentsOf: url))
    }

    /// The friendly summary printed after seeding and on every later run.
    func summary(root: String, alreadySeeded: Bool) -> String {
        var lines: [String] = []
        if alreadySeeded {
            lines.append("The demo season \(season) is already seeded (\(root)/demo.json, \(seededAt)); not seeding again.")
        } else {
            lines.append(
                "Seeded the Yangcheng Lake hairy crab season \(season) on \(chainId) via \(node) in \(String(format: "%.1f", seconds)) s (\(transactions.count) transactions)."
            )
        }
        let c = counts
        lines.append(
            "  \(c["rings_commissioned"] ?? 0) rings commissioned, \(c["rings_tagged"] ?? 0) crabs tagged in \(c["lots"] ?? 0) lots, \(c["boxes"] ?? 0) boxes, \(c["coupons_issued"] ?? 0) coupons issued, \(c["scans"] ?? 0) scans, \(c["refused"] ?? 0) transactions refused on purpose"
        )
        lines.append("  members:")
        for m in members.sorted(by: { $0.org < $1.org }) {
            lines.append("    \(m.org)  \(m.role.padding(toLength: 9, withPad: " ", startingAt: 0))  \(m.name)")
        }
        lines.append("")
        lines.append(
            "Codes to try: open the link in a browser (the web console's verify page), or call the API with curl (each check is recorded on chain):"
        )
        for h in highlights {
            lines.append("  \(h.name): \(h.shows)  → expect \(h.expect)")
            lines.append("    \(h.shortCode)")
            lines.append("    open \(h.browserURL(node: node))")
            lines.append("    curl '\(h.verifyCurlURL(node: node))'   # city=\(h.checkCity)")
        }
        if let v = village {
            lines.append("")
            lines.append(
                "三资监管 (rural collective assets, WebAssembly contract \(v.contract)): village \(v.village) \(v.name), township \(v.township)"
            )
            lines.append("  村务公开 disclosure (public):  open \(v.disclosureURL)")
            lines.append(
                "  township reviewer's desk:     open \(v.reviewURL)  (sign in as \(v.reviewerAccount), org \(v.township))")
            lines.append(
                "  crab farm \(v.pondFarm) (\(v.pondFarmOrg)) fishes pond \(v.pondItem), leased to it by open bidding: lease \(v.pondLease)"
            )
            lines.append(
                "  curl -X POST \(node)/v1/wasm/contracts/\(v.contract)/query -H 'Content-Type: application/json' -d '{\"method\":\"get\",\"args\":{\"village\":\"\(v.village)\",\"kind\":\"lease\",\"id\":\"\(v.pondLease)\"}}'"
            )
        }
        let refused = transactions.filter { $0.status == "failed" }
        if !refused.isEmpty {
            lines.append("")
            lines.append("Refused on purpose, recorded on chain as failed transactions:")
            for t in refused {
                lines.append("  \(t.error ?? "?"): \(t.step)")
                lines.append("    curl '\(node)/v1/txs/\(t.txid)'")
            }
        }
        lines.append("")
        lines.append("Identities (key.pem, cert.pem) — sign more with `xiangchain tx --identity DIR --contract crab …`:")
        for i in identities {
            lines.append(
                "  \(i.actor.padding(toLength: 20, withPad: " ", startingAt: 0)) \(i.role)@\(i.org)  \(i.dir)  \(i.name)")
        }
        lines.append("")
        lines.append(
            "All \(rings.count) ring and \(coupons.count) coupon codes with their secrets, and every txid: \(root)/demo.json")
        return lines.joined(separator: "\n")
    }
}

extension DemoRecord.Highlight {
    /// The code's Digital Link path on the node: the web console's verify page, as a QR code
    /// pointing at the node would open it.
    func browserURL(node: String) -> String {
        guard let u = URLComponents(string: uri) else { return "\(node)/verify" }
        return node + u.percentEncodedPath + (u.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    /// `GET /v1/verify?code=…&city=…` on `node`: the code's reserved characters and the city
    /// percent-encoded (the HTTP parser refuses raw UTF-8 in a request line).
    func verifyCurlURL(node: String) -> String {
        "\(node)/v1/verify?code=\(DemoRecord.Highlight.queryEscape(uri))&city=\(DemoRecord.Highlight.strictEscape(checkCity))"
    }

    /// Escapes what would end or split a query value (`? = & # + %` and spaces), keeping `:` and `/` readable.
    static func queryEscape(_ s: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "?=&#+% ")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// Percent-encodes everything but unreserved characters.
    static func strictEscape(_ s: String) -> String {
        s.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(
                charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"))
            ?? s
    }
}
