import ChainCore
import ChainTesting
import CrabTraceContract
import Foundation
import Node
import Storage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `xiangchain demo` against four real validator processes: the season is seeded through the
/// API, its notable transactions are committed, the paper-crabs fraud is recorded as failed, and
/// a second run seeds nothing.
@Suite(.serialized) struct DemoTests {
    @Test func demoSeedsTheCrabSeasonOnceOnAFourOrgNetwork() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", "org0,org1,org2,org3", "--chain-id", "demo-test", "--base-port",
                String(base),
            ])
            #expect(made.status == 0, "\(made.output)")
            for k in 0..<4 {
                let url = dir.appendingPathComponent("nodes/\(k)/config.json")
                var config = try NodeConfig.load(from: url)
                config.consensusTimeoutMs = 1_000
                config.emptyBlockDelayMs = 200
                try config.write(to: url)
            }
            let nodes = try (0..<4).map { try NodeProcess(home: dir.appendingPathComponent("nodes/\($0)"), port: base + $0) }
            for n in nodes { try await n.waitUntilReady() }
            let api = nodes[0].baseURL.absoluteString

            let first = try await XiangChainBinary.run(["demo", "--dir", dir.path, "--node", api])
            #expect(first.status == 0, "\(first.output)\n\(nodes[0].logTail())")
            #expect(first.output.contains("Seeded the Yangcheng Lake hairy crab season"), "\(first.output)")
            #expect(first.output.contains("/v1/verify?code=https://id.xiangchain.example/01/"))

            let marker = dir.appendingPathComponent("demo.json")
            let record = try JSONParser().parse(Array(try Data(contentsOf: marker)))
            let txs = try #require(record["transactions"]?.arrayValue)
            #expect(txs.count > 30)
            func tx(_ prefix: String) throws -> JSONValue {
                try #require(txs.first { $0["step"]?.stringValue?.hasPrefix(prefix) == true }, "no step \(prefix)")
            }
            func onChain(_ txid: String) async throws -> JSONValue {
                let (status, json) = try await HTTP.get(URL(string: "\(api)/v1/txs/\(txid)")!)
                #expect(status == 200, "\(txid): \(json.canonicalString)")
                return json
            }

            // The notable steps are committed on chain as the crab contract's methods.
            for (step, method) in [
                ("register farm", "register_member"), ("open season", "open_season"),
                ("commission rings batch 1", "commission_rings"),
                ("tag harvest lot", "tag_harvest"), ("inspect lot", "inspect_lot"), ("issue 80 coupons", "issue_coupons"),
                ("freeze lot", "freeze_lot"), ("recall lot", "recall"), ("redeem coupon", "redeem"), ("deliver box", "receive"),
                ("scan forged ring", "scan"), ("scan cloned ring", "scan"),
            ] {
                let t = try tx(step)
                let json = try await onChain(try #require(t["txid"]?.stringValue))
                #expect(json["status"]?.stringValue == "committed", "\(step): \(json.canonicalString)")
                #expect(json["contract"]?.stringValue == "crab" && json["method"]?.stringValue == method, "\(step)")
            }
            // The cloned ring's second scan raised the two-city alert; the forged one never_issued.
            let clone = try await onChain(try #require(try tx("scan cloned ring")["txid"]?.stringValue))
            #expect(clone.canonicalString.contains("two_cities"), "\(clone.canonicalString)")
            let forged = try await onChain(try #require(try tx("scan forged ring")["txid"]?.stringValue))
            #expect(forged.canonicalString.contains("never_issued"), "\(forged.canonicalString)")

            // Paper crabs: refused, and the refusal is on record with its reason.
            let paper = try tx("over-issue")
            let paperTxid = try #require(paper["txid"]?.stringValue)
            let refused = try await onChain(paperTxid)
            #expect(refused["status"]?.stringValue == "failed")
            #expect(refused["error"]?["code"]?.stringValue == "paper_crabs", "\(refused.canonicalString)")
            let frozen = try await onChain(try #require(try tx("redeem against the frozen lot")["txid"]?.stringValue))
            #expect(frozen["error"]?["code"]?.stringValue == "lot_frozen", "\(frozen.canonicalString)")
            let height = try #require(refused["height"]?.int64Value)
            let (_, page) = try await HTTP.get(URL(string: "\(api)/v1/blocks?from=\(height)&limit=1")!)
            let block = try #require(page["blocks"]?.arrayValue?.first)
            #expect(block["txids"]?.arrayValue?.contains(.string(paperTxid)) == true, "\(block.canonicalString)")
            #expect(first.output.contains(paperTxid))

            // Highlights carry their secrets; identities exist on disk.
            let highlights = try #require(record["highlights"]?.arrayValue)
            let names = Set(highlights.compactMap { $0["name"]?.stringValue })
            let wanted: Set<String> = ["genuine-ring", "forged-ring", "cloned-ring", "redeemed-coupon", "frozen-lot-ring"]
            #expect(wanted.isSubset(of: names), "\(names)")
            #expect(highlights.allSatisfy { $0["uri"]?.stringValue?.contains("?s=") == true })
            #expect(record["rings"]?.arrayValue?.count == 601)
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("identities/farm-zhang/key.pem").path))

            // A second run does not seed again: same record, no new transaction.
            let before = try Data(contentsOf: marker)
            let again = try await XiangChainBinary.run(["demo", "--dir", dir.path, "--node", api])
            #expect(again.status == 0, "\(again.output)")
            #expect(again.output.contains("already seeded"), "\(again.output)")
            #expect(try Data(contentsOf: marker) == before)
            for n in nodes { #expect(n.stop(signal: SIGTERM) == 0) }

            // Every printed highlight verifies as the summary says, read from node 0's committed state.
            let store = try BlockStore(path: dir.appendingPathComponent("nodes/0/data/chain.sqlite").path)
            let queries = CrabQueries(state: store)
            for h in highlights {
                let expect = h["expect"]?.stringValue ?? ""
                let status = String(expect.prefix { $0 != " " })
                let reasons = expect.split(whereSeparator: { "[], ".contains($0) }).dropFirst().map(String.init)
                #expect(h["txids"]?.arrayValue?.isEmpty == false, "\(h.canonicalString)")
                let v = try queries.verify(code: try #require(h["uri"]?.stringValue))
                #expect(v.status.rawValue == status, "\(h["name"]?.stringValue ?? ""): \(v.json.canonicalString)")
                #expect(Set(reasons).isSubset(of: Set(v.reasons)), "\(h["name"]?.stringValue ?? ""): \(v.reasons)")
            }
        }
    }
}
