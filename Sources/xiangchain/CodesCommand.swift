import ArgumentParser
import ChainCore
import CodeSheet
import CrabTraceContract
import Foundation

/// `xiangchain codes`: the association's batch of printable anti-counterfeit codes.
struct CodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codes",
        abstract:
            "Generate a batch of ring or coupon codes with secrets, as printable QR sheets (SVG, PNG) and the commissioning args.",
        discussion: """
            Writes to OUT: sheet-<n>.svg (A4, 20 labels a page), png/<n>-<short code>.png (one QR each, with --png), \
            codes.csv (URI, short code, key, secret — the only copy of the secrets: print, then keep it offline or destroy it), \
            and commission.json: the args of crab.commission_rings (rings) or the coupon list of crab.issue_coupons \
            (coupons), with only the salted secret hashes. Submit it with `xiangchain tx --args-file OUT/commission.json …`.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case rings, coupons
    }

    @Argument(help: "rings or coupons.") var kind: Kind
    @Option(help: "Rings: the crab product's GTIN (14 digits, valid check digit).") var gtin: String?
    @Option(help: "Coupons: the GCN base, 12 digits (company prefix + coupon reference).") var gcnBase: String?
    @Option(help: "First serial number.") var from: Int = 1
    @Option(help: "How many codes.") var count: Int = 20
    @Option(help: "Rings: serial prefix (e.g. R2026-).") var prefix: String = ""
    @Option(help: "Digits of the serial number, zero-padded.") var width: Int = 6
    @Option(help: "Resolver host printed in the QR URIs (a node's API host serves them in the console).") var resolver: String =
        "id.xiangchain.example"
    @Option(help: "Caption under each code.") var caption: String = "阳澄湖大闸蟹"
    @Option(help: "Output directory (created).") var out: String
    @Flag(help: "Also write one PNG per code.") var png = false

    func validate() throws {
        guard (1...CodeGenerator.maxBatch).contains(count) else {
            throw ValidationError("--count must be 1–\(CodeGenerator.maxBatch)")
        }
        guard from >= 0, (1...12).contains(width) else { throw ValidationError("--from ≥ 0 and --width 1–12") }
        switch kind {
        case .rings: guard gtin != nil else { throw ValidationError("rings need --gtin") }
        case .coupons: guard gcnBase != nil else { throw ValidationError("coupons need --gcn-base") }
        }
    }

    func run() throws {
        var rng = SystemRandomNumberGenerator()
        let generator = CodeGenerator(resolver: resolver)
        let serials = from...(from + count - 1)
        let codes: [GeneratedCode]
        let commission: JSONValue
        switch kind {
        case .rings:
            codes = try generator.rings(gtin: gtin ?? "", serials: serials, prefix: prefix, width: width, using: &rng)
            commission = .object([
                "gtin": .string(Self.gtin(of: codes[0].key) ?? gtin ?? ""),
                "rings": .array(
                    codes.map {
                        .object(["serial": .string(Self.serial(of: $0.key) ?? ""), "secretHash": .string($0.secretHash)])
                    }),
            ])
        case .coupons:
            codes = try generator.coupons(base12: gcnBase ?? "", serials: serials, width: width, using: &rng)
            commission = .object([
                "coupons": .array(
                    codes.map { .object(["gcn": .string(Self.gcn(of: $0.key) ?? ""), "secretHash": .string($0.secretHash)]) })
            ])
        }
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let labels = codes.map { CodeLabel(uri: $0.uri, shortCode: $0.shortCode, caption: "\(caption) · \($0.key.canonical)") }
        let sheet = CodeSheet(title: "\(caption) — \(kind.rawValue) \(from)–\(from + count - 1)", labels: labels)
        let pages = try sheet.svgPages()
        for (i, page) in pages.enumerated() {
            try Data(page.utf8).write(to: dir.appendingPathComponent("sheet-\(i + 1).svg"))
        }
        if png { _ = try sheet.writePNGs(to: dir.appendingPathComponent("png")) }
        var csv = "uri,short_code,key,secret\n"
        for c in codes { csv += "\(c.uri),\(c.shortCode),\(c.key.canonical),\(c.secret)\n" }
        let csvURL = dir.appendingPathComponent("codes.csv")
        try Data(csv.utf8).write(to: csvURL)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: csvURL.path)
        try Data(commission.canonicalBytes).write(to: dir.appendingPathComponent("commission.json"))
        print(
            "wrote \(codes.count) \(kind.rawValue): \(pages.count) sheet(s) in \(dir.path), codes.csv (secrets, mode 600), commission.json (hashes only)"
        )
    }

    static func gtin(of key: GS1Key) -> String? {
        if case .sgtin(let g, _) = key { return g }
        return nil
    }

    static func serial(of key: GS1Key) -> String? {
        if case .sgtin(_, let s) = key { return s }
        return nil
    }

    static func gcn(of key: GS1Key) -> String? {
        if case .gcn(let c) = key { return c }
        return nil
    }
}
