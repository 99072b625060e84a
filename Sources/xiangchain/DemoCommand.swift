import ArgumentParser
import ChainCore
import Demo
import Foundation
import Node

/// `xiangchain demo`: seeds the crab season on a network that is already running.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract:
            "Seed a Yangcheng Lake hairy crab season (identities, members, rings, lots, boxes, coupons, scans and refused frauds) on a running network; once per network (D/demo.json)."
    )

    @Option(help: "Network directory (made by init or devnet).") var dir: String = ".devnet"
    @Option(help: "Node API base URL (default: the first validator that answers).") var node: String?

    func run() async throws {
        let layout = NetworkLayout(root: URL(fileURLWithPath: dir))
        guard layout.exists else { throw ValidationError("\(dir) holds no network (no genesis.json)") }
        let candidates: [URL]
        if let node {
            guard let url = DemoRunner.normalized(node) else { throw ValidationError("--node is not a URL") }
            candidates = [url]
        } else {
            candidates = try DemoRunner.validatorAPIs(layout)
        }
        try await DemoRunner.run(layout: layout, candidates: candidates, dir: dir)
    }
}
