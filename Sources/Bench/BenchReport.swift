import ChainClient
import ChainCore
import Foundation
import Identity
import Launcher
import Node

#if canImport(Glibc)
    import Glibc
#endif

/// The benchmark's result, as a table and as JSON.
public struct Report: Sendable {
    /// The figures as JSON (the `--json` file).
    public let json: JSONValue
    /// The figures as a table for people.
    public let table: String

    static func make(
        submissions: [Submission], watcher: CommitWatcher, start: ContinuousClock.Instant, duration: Int, signRate: Double,
        presigned: Int, urls: [URL], startHeight: Int64, machine: Machine, network: LocalNetwork?, cpuBefore: [String: Double],
        cpuAfter: [String: Double], settings: JSONValue
    ) async throws -> Report {
        let committedAt = watcher.commitTimes
        let accepted = submissions.filter(\.accepted)
        let full = ErrorCode.mempoolFull.rawValue
        let refused = submissions.filter { $0.code == full }.count
        let failed = submissions.filter { !$0.accepted && $0.code != full }
        let windowNs = Int64(duration) * 1_000_000_000
        let inWindow = committedAt.values.filter { $0 <= windowNs }.count
        let lastCommit = committedAt.values.max() ?? 0
        var latencies = accepted.compactMap { s in committedAt[s.index].map { Double($0 - s.submittedAtNs) / 1e6 } }
        latencies.sort()
        func pct(_ p: Double) -> Double { Self.percentile(latencies, p) }
        // How long the answers took (a refusal should come at once), and how far behind the
        // offered rate the clients sent (a run whose clients fell behind offered less than it says).
        let refusals = submissions.filter { $0.code == full }
        let ackTimes = Self.percentiles(accepted.map { Double($0.timing.answeredAfterNs) / 1e6 })
        let refusalTimes = Self.percentiles(refusals.map { Double($0.timing.answeredAfterNs) / 1e6 })
        let late = Self.percentiles(submissions.map { Double($0.timing.sentLateNs) / 1e6 })
        func ms(_ v: JSONValue, _ key: String) -> String { v[key]?.doubleValue.map { String(format: "%.0f", $0) } ?? "-" }
        var answerLine = "answers ms        202 p50 \(ms(ackTimes, "p50")) p99 \(ms(ackTimes, "p99"))"
        if !refusals.isEmpty { answerLine += "   503 p50 \(ms(refusalTimes, "p50")) p99 \(ms(refusalTimes, "p99"))" }
        if settings["rate"]?.stringValue != "max" {
            answerLine += "   sent behind schedule p50 \(ms(late, "p50")) p99 \(ms(late, "p99"))"
        }

        // Every acknowledged transaction must be in the chain of every node, but those a node
        // reported dropped for age (`tx_expired`): the client was told, and they are counted as
        // expired, not committed.
        let expired = watcher.expiredIndices
        var lostPerNode: [String: Int] = [:]
        let acknowledgedIDs = Set(accepted.map(\.index)).subtracting(expired)
        for url in urls {
            // A node may be a block or two behind the watched one: give it up to 30 s.
            let deadline = ContinuousClock.now + .seconds(30)
            var missing = acknowledgedIDs.count
            while true {
                let ids = try await Self.committedIndices(url, from: startHeight + 1, lookup: watcher.lookup)
                missing = acknowledgedIDs.subtracting(ids).count
                if missing == 0 || ContinuousClock.now > deadline { break }
                try await Task.sleep(for: .milliseconds(500))
            }
            lostPerNode[url.absoluteString] = missing
        }
        let lost = lostPerNode.values.max() ?? 0
        // Execution outcome of a sample of the acknowledged transactions (a failed one is committed
        // with its error code, e.g. an invariant of the crab contract).
        var executionFailed: [String: Int] = [:]
        let sample =
            accepted.count <= 200 ? accepted : stride(from: 0, to: accepted.count, by: accepted.count / 200).map { accepted[$0] }
        let first = try ChainClient(urls[0])
        for s in sample {
            let t = try? await first.transaction(watcher.txid(s.index))
            if t?["status"]?.stringValue == "failed" {
                executionFailed[t?["error"]?["code"]?.stringValue ?? "?", default: 0] += 1
            }
        }
        let committedTps = Double(inWindow) / Double(duration)
        let rss = network?.peakRSS() ?? [:]
        let committedTotal = committedAt.count
        var nodes: [JSONValue] = []
        var nodeLines: [String] = []
        for id in network?.nodes.map(\.nodeId) ?? [] {
            let cpu = (cpuAfter[id] ?? 0) - (cpuBefore[id] ?? 0)
            let per1000 = committedTotal > 0 ? cpu / Double(committedTotal) * 1000 : 0
            nodes.append(
                .object([
                    "nodeId": .string(id), "rssMiB": Self.number(rss[id] ?? 0, 1), "cpuSeconds": Self.number(cpu, 2),
                    "cpuSecondsPer1000Tx": Self.number(per1000, 3),
                ]))
            nodeLines.append(
                String(
                    format: "  %-8@ peak RSS %7.1f MiB   CPU %7.2f s   %.3f CPU s / 1000 tx", id as NSString, rss[id] ?? 0, cpu,
                    per1000))
        }
        var failedCodes: [String: Int] = [:]
        for f in failed { failedCodes[f.code ?? "?", default: 0] += 1 }
        let json: JSONValue = .object([
            "settings": settings, "machine": machine.json,
            "signaturesPerSecond": Self.number(signRate, 0), "presigned": .int(Int64(presigned)),
            "restamped": .int(Int64(watcher.restampedCount)),
            "submitted": .int(Int64(submissions.count)), "acknowledged": .int(Int64(accepted.count)),
            "refused": .int(Int64(refused)), "failed": .int(Int64(failed.count)),
            "failedCodes": .object(failedCodes.mapValues { .int(Int64($0)) }),
            "committed": .int(Int64(committedTotal)), "committedInWindow": .int(Int64(inWindow)),
            "expired": .int(Int64(expired.count)),
            "committedTps": Self.number(committedTps, 1),
            "drainSeconds": Self.number(max(0, Double(lastCommit - windowNs) / 1e9), 2),
            "latencyMs": .object([
                "p50": Self.number(pct(0.50), 1), "p95": Self.number(pct(0.95), 1), "p99": Self.number(pct(0.99), 1),
            ]),
            "answerMs": .object(["acknowledged": ackTimes, "refused": refusalTimes]), "sentLateMs": late,
            "executionSample": .object([
                "checked": .int(Int64(sample.count)), "failed": .int(Int64(executionFailed.values.reduce(0, +))),
                "codes": .object(executionFailed.mapValues { .int(Int64($0)) }),
            ]),
            "lost": .int(Int64(lost)), "lostPerNode": .object(lostPerNode.mapValues { .int(Int64($0)) }),
            "nodes": .array(nodes),
        ])
        // The suite of a fresh network (with --target the nodes' own suite is not known here).
        let suiteNote = settings["target"] == .null ? "suite \(settings["suite"]?.stringValue ?? "?"), " : ""
        let table = """

            XiangChain bench — \(settings["workload"]?.stringValue ?? "") workload, \(suiteNote)\(urls.count) nodes, \(settings["clients"]?.int64Value ?? 0) clients, rate \(settings["rate"]?.stringValue ?? ""), \(duration) s\(settings["stream"]?.boolValue == true ? ", submission stream" : "")\((settings["window"]?.int64Value ?? 1) > 1 ? " (window \(settings["window"]?.int64Value ?? 1))" : "")
            machine           \(machine.cores) cores, \(machine.cpuModel)
            signing           \(Int(signRate)) signatures/s (pre-signed \(presigned), outside the window\(watcher.restampedCount > 0 ? "; \(watcher.restampedCount) signed again within it, their timestamp too old" : ""))
            submitted         \(submissions.count)   acknowledged \(accepted.count)   refused (503) \(refused)   failed \(failed.count)
            committed         \(committedTotal) (\(inWindow) within the window)\(expired.isEmpty ? "" : "   expired \(expired.count) (acknowledged, then dropped for age: tx_expired, not committed)")
            committed tx/s    \(String(format: "%.1f", committedTps))
            latency ms        p50 \(String(format: "%.0f", pct(0.5)))   p95 \(String(format: "%.0f", pct(0.95)))   p99 \(String(format: "%.0f", pct(0.99)))
            \(answerLine)
            execution         \(executionFailed.values.reduce(0, +)) of \(sample.count) sampled transactions failed in execution \(executionFailed.isEmpty ? "" : "\(executionFailed)")
            lost              \(lost) acknowledged transactions missing on some node
            \(nodeLines.joined(separator: "\n"))
            """
        return Report(json: json, table: table)
    }

    /// p50, p99 and max of `values` (milliseconds) as JSON numbers; zeros when there are none.
    static func percentiles(_ values: [Double]) -> JSONValue {
        let sorted = values.sorted()
        return .object([
            "p50": number(percentile(sorted, 0.5), 1), "p99": number(percentile(sorted, 0.99), 1),
            "max": number(sorted.last ?? 0, 1),
        ])
    }

    /// The nearest-rank `p` percentile (0 < p ≤ 1) of the ascending `sorted`; 0 when empty.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }

    static func number(_ v: Double, _ digits: Int) -> JSONValue {
        .number(String(format: "%.\(digits)f", v.isFinite ? v : 0))
    }

    /// Indices of our transactions found in `url`'s blocks from `from` on.
    static func committedIndices(_ url: URL, from: Int64, lookup: (String) -> Int?) async throws -> Set<Int> {
        var found = Set<Int>()
        var height = from
        while true {
            let page = try await ChainClient(url).get("/v1/blocks?from=\(height)&limit=100")
            let blocks = page["blocks"]?.arrayValue ?? []
            for b in blocks {
                for id in b["txids"]?.arrayValue ?? [] { if let i = id.stringValue.flatMap(lookup) { found.insert(i) } }
            }
            if blocks.count < 100 { return found }
            height += Int64(blocks.count)
        }
    }
}
