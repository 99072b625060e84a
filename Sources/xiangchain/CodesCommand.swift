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
        let serials = from...(from + count - 1)
        let batch: CodeBatch
        switch kind {
        case .rings:
            batch = try CodeBatch.rings(
                gtin: gtin ?? "", serials: serials, prefix: prefix, width: width, resolver: resolver, using: &rng)
        case .coupons:
            batch = try CodeBatch.coupons(
                base12: gcnBase ?? "", serials: serials, width: width, resolver: resolver, using: &rng)
        }
        let dir = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sheet = batch.sheet(caption: caption)
        let pages = try sheet.svgPages()
        for (i, page) in pages.enumerated() {
            try Data(page.utf8).write(to: dir.appendingPathComponent("sheet-\(i + 1).svg"))
        }
        if png { _ = try sheet.writePNGs(to: dir.appendingPathComponent("png")) }
        let csvURL = dir.appendingPathComponent("codes.csv")
        try Data(batch.csv.utf8).write(to: csvURL)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: csvURL.path)
        try Data(batch.commission.canonicalBytes).write(to: dir.appendingPathComponent("commission.json"))
        print(
            "wrote \(batch.codes.count) \(kind.rawValue): \(pages.count) sheet(s) in \(dir.path), codes.csv (secrets, mode 600), commission.json (hashes only)"
        )
    }
}
