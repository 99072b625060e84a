import API
import ChainClient
import ChainCore
import ChainTesting
import CrabTraceContract
import Foundation
import HTTPTypes
import Identity
import Node
import Storage
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `xiangchain demo` against four real validator processes of an eleven-org consortium (each farm,
/// shop, the lab, the carrier, the regulator, the 三资 village and its township an org of its own):
/// the season and the village are seeded through the API, its notable transactions are committed,
/// the paper-crabs fraud (coupons beyond the crabs a shop holds) is recorded as failed, every printed
/// code gets its verdict from `/v1/verify`, the regulator's accountability trace of the redeemed
/// coupon names the farm, lab, merchant and logistics signers with proofs that verify, and a second
/// run seeds nothing.
@Suite(.serialized) struct DemoTests {
    @Test func demoSeedsTheCrabSeasonOnceAndTheRegulatorTracesARedeemedCoupon() async throws {
        try await withTemporaryDirectory { dir in
            let base = freePortBlock(count: 4)
            let made = try await XiangChainBinary.run([
                "init", "--dir", dir.path, "--orgs", (0..<11).map { "org\($0)" }.joined(separator: ","), "--validators", "4",
                "--chain-id", "demo-test", "--base-port", String(base), "--demo-roles",
            ])
            #expect(made.status == 0, "\(made.output)")
            try quickenConsensus(dir, validators: 4)
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
                ("tag harvest lot", "tag_harvest"), ("inspect lot", "inspect_lot"), ("issue 5 coupons", "issue_coupons"),
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
            #expect(refused["error"]?["code"]?.stringValue == "insufficient_stock", "\(refused.canonicalString)")
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

            // Each printed code gets its verdict from the public verify endpoint. Each check is itself
            // a scan the gateway submits without waiting; the test waits for every one to commit, so
            // the state read after the nodes stop holds them all, however fast the nodes are.
            var checks: [String] = []
            for h in highlights {
                let uri = try #require(h["uri"]?.stringValue)
                let expect = String((h["expect"]?.stringValue ?? "").prefix { $0 != " " })
                // The city its buyer is in (the demo's own scans of the genuine ring were in 上海).
                let city = h["city"]?.stringValue ?? "苏州"
                let query = "code=\(Self.escape(uri))&city=\(Self.escape(city))"
                let (status, v) = try await HTTP.get(URL(string: "\(api)/v1/verify?\(query)")!)
                #expect(
                    status == 200 && v["status"]?.stringValue == expect, "\(h["name"]?.stringValue ?? ""): \(v.canonicalString)")
                checks.append(try #require(v["scanRecorded"]?["txid"]?.stringValue, "\(v.canonicalString)"))
            }
            for txid in checks {
                let settled = try await Self.waitUntil(.seconds(60)) {
                    let (_, json) = try await HTTP.get(URL(string: "\(api)/v1/txs/\(txid)")!)
                    return json["status"]?.stringValue == "committed"
                }
                #expect(settled, "the check \(txid) was not committed")
            }

            // The regulator's accountability trace of the redeemed coupon, through another validator.
            let coupon = try #require(highlights.first { $0["name"]?.stringValue == "redeemed-coupon" }?["uri"]?.stringValue)
            let regulator = try SigningIdentity(directory: dir.appendingPathComponent("identities/amr-suzhou"))
            let target = "/v1/trace/accountability?code=\(Self.escape(coupon))"
            let url = URL(string: nodes[2].baseURL.absoluteString + target)!
            #expect(try await HTTP.get(url).0 == 401)
            let status2 = try await nodes[2].client.status()
            let signed = try RequestAuthenticator.headers(
                signing: regulator, chain: status2["chainId"]?.stringValue ?? "", node: status2["nodeId"]?.stringValue ?? "",
                method: "GET", target: target, timestamp: Int64(Date().timeIntervalSince1970 * 1000))
            var headers: [String: String] = [:]
            for field in signed { headers[field.name.rawName] = field.value }
            // Signed for node 2: another node refuses it (it names node 2, not that one).
            let elsewhere = try await HTTP.get(URL(string: nodes[1].baseURL.absoluteString + target)!, headers: headers)
            #expect(elsewhere.0 == 401 && elsewhere.1["error"]?["code"]?.stringValue == "bad_signature")
            let (traceStatus, trace) = try await HTTP.get(url, headers: headers)
            #expect(traceStatus == 200, "\(trace.canonicalString)")
            // Sent again, the same request is a replay.
            let replay = try await HTTP.get(url, headers: headers)
            #expect(replay.0 == 401 && replay.1["error"]?["code"]?.stringValue == "replayed_request")
            let accountable = Set((trace["accountable"]?.arrayValue ?? []).compactMap { $0["signer"]?["role"]?.stringValue })
            let signers = Set((trace["entries"]?.arrayValue ?? []).compactMap { $0["signer"]?["role"]?.stringValue })
            for role in ["farm", "lab", "merchant", "logistics"] {
                #expect(signers.contains(role), "trace signers \(signers)")
            }
            #expect(accountable.contains("merchant") && accountable.contains("farm"), "accountable \(accountable)")
            let genesis = try Genesis.load(from: dir.appendingPathComponent("genesis.json"))
            let proofs = try #require(trace["proofs"]?.arrayValue)
            #expect(!proofs.isEmpty)
            for proof in proofs {
                let report = try ProofVerifier.verify(
                    proof: proof, suite: genesis.suite, validatorKeys: try genesis.validatorKeys(), quorum: genesis.quorum,
                    chainId: genesis.chainId)
                #expect(report.validSigners.count >= 3)
            }

            // The 三资 village: the contract deployed, the village's records as the demo tells them,
            // and the crab farm's pond leased to it by bidding.
            let village = try #require(record["village"])
            #expect(village["village"]?.stringValue == "org9" && village["township"]?.stringValue == "org10")
            #expect(first.output.contains("/village?v=org9"), "\(first.output)")
            let (_, contractRecord) = try await HTTP.get(URL(string: "\(api)/v1/wasm/contracts/sanzi")!)
            #expect(contractRecord["version"]?.int64Value == 1, "\(contractRecord.canonicalString)")
            let (qs, disclosure) = try await HTTP.post(
                URL(string: "\(api)/v1/wasm/contracts/sanzi/query")!,
                JSONValue.object(["method": .string("disclosure"), "args": .object(["village": .string("org9")])]).canonicalBytes)
            #expect(qs == 200, "\(disclosure.canonicalString)")
            let d = try #require(disclosure["result"])
            let lease = try #require(d["leases"]?.arrayValue?.first { $0["id"]?.stringValue == "lease-pond-12" })
            #expect(lease["item"]?.stringValue == "pond-12" && lease["bidding"]?.stringValue == "bid-pond-12")
            #expect(lease["tenant"]?.stringValue?.hasPrefix(village["pondFarmOrg"]?.stringValue ?? "?") == true)
            #expect(lease["paidFen"]?.int64Value == 6_080_000)
            let kinds = Set((d["alerts"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue })
            #expect(
                kinds == ["payment_without_approval", "lease_without_bidding", "lease_below_reference", "lease_payment_overdue"],
                "\(kinds)")
            let status = Dictionary(
                (d["spending"]?.arrayValue ?? []).map { ($0["id"]?.stringValue ?? "", $0["status"]?.stringValue ?? "") },
                uniquingKeysWith: { a, _ in a })
            #expect(status == ["sp-01": "approved", "sp-02": "approved", "sp-03": "pending"], "\(status)")
            // Deterministic books: the months and the funds depend only on the season's year.
            let year = try #require(record["season"]?.stringValue)
            let months = (d["months"]?.arrayValue ?? []).map {
                "\($0["month"]?.int64Value ?? 0):\($0["incomeFen"]?.int64Value ?? 0):\($0["spendingFen"]?.int64Value ?? 0)"
            }
            #expect(
                months == ["\(year)03:6080000:0", "\(year)04:0:1200000", "\(year)05:0:16000000", "\(year)06:0:6500000"],
                "\(months)")
            // Opening balance, plus the rent received, less sp-01, sp-02 and the booked expense.
            let balance: Int64 = 128_650_000 + 6_080_000 - 1_200_000 - 16_000_000 - 6_500_000
            #expect(d["funds"]?["balanceFen"]?.int64Value == balance)
            let refusedPay = try tx("三资: pay sp-03 before review")
            #expect(refusedPay["error"]?.stringValue == "not_approved", "\(refusedPay.canonicalString)")

            // A second run does not seed again: same record, no new transaction.
            let before = try Data(contentsOf: marker)
            let again = try await XiangChainBinary.run(["demo", "--dir", dir.path, "--node", api])
            #expect(again.status == 0, "\(again.output)")
            #expect(again.output.contains("already seeded"), "\(again.output)")
            #expect(try Data(contentsOf: marker) == before)
            for n in nodes { #expect(n.stop(signal: SIGTERM) == 0) }

            // Every printed highlight verifies as the summary says, read from node 0's committed state.
            let store = try BlockStore(path: dir.appendingPathComponent("nodes/0/data/chain.sqlite").path, hasher: .sha256)
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

    static func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}
