import ChainClient
import ChainCore
import Foundation
import Identity
import Launcher

/// `xiangchain bench --idle N`: the latency a lone client sees on an idle network (issue 15, item
/// 3). N transactions, pre-signed, are submitted one after another with `POST /v1/txs?wait=commit`
/// (each to the next node in turn, so most land on a validator that does not lead the round);
/// each is timed from the request to the node's answer that it is committed. Nothing else loads
/// the network.
public struct IdleReport: Sendable {
    /// Submit-to-commit-answer times, ms, sorted.
    public let latencies: [Double]
    /// Transactions that were not answered as committed (the node's wait ran out, or it refused).
    public let notCommitted: Int

    /// The `p`-th percentile (0…1), ms; 0 without samples.
    public func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        return latencies[min(latencies.count - 1, max(0, Int((Double(latencies.count) * p).rounded(.up)) - 1))]
    }

    /// The figures as JSON.
    public var json: JSONValue {
        .object([
            "mode": .string("idle"), "transactions": .int(Int64(latencies.count + notCommitted)),
            "committed": .int(Int64(latencies.count)), "notCommitted": .int(Int64(notCommitted)),
            "latencyMs": .object([
                "p50": .string(String(format: "%.1f", percentile(0.5))), "p99": .string(String(format: "%.1f", percentile(0.99))),
                "max": .string(String(format: "%.1f", latencies.last ?? 0)),
            ]),
        ])
    }

    /// The figures for people.
    public var table: String {
        """
        idle latency      \(latencies.count + notCommitted) sequential transactions, submit to commit answer
          committed       \(latencies.count)\(notCommitted > 0 ? "   NOT COMMITTED \(notCommitted)" : "")
          latency ms      p50 \(String(format: "%.0f", percentile(0.5)))   p99 \(String(format: "%.0f", percentile(0.99)))   max \(String(format: "%.0f", latencies.last ?? 0))
        """
    }
}

extension BenchRunner {
    /// Most transactions one idle run submits.
    public static let maxIdle = 10_000

    /// Runs the idle-latency check: starts a fresh network (or targets running nodes), lets it
    /// settle, then submits `count` transactions one at a time.
    public static func runIdle(_ s: BenchSettings, count: Int) async throws -> IdleReport {
        guard (1...maxIdle).contains(count) else {
            throw ChainError(.invalidParameter, "the idle check takes 1–\(maxIdle) transactions")
        }
        return try await withNetwork(s) { urls, signer, _ in
            let chainId = try await ChainClient(urls[0]).chainId()
            let run = UUID().uuidString
            // One more than timed: the first warms the connections and the nodes.
            let requests = try await Presigned.make(
                (0...count).map { BenchCall.evidence(signer, $0, run: run) }, batch: 1, chain: chainId,
                restampAfter: s.restampAfter)
            let clients = try urls.map { try ChainClient($0) }
            _ = try await clients[0].post("/v1/txs?wait=commit", body: requests.bodies[0])
            // Then the network idles (empty-block pacing is in force) before the timed ones.
            try await Task.sleep(for: .seconds(2))
            var latencies: [Double] = []
            var notCommitted = 0
            for i in 1...count {
                let client = clients[i % clients.count]
                // 10,000 one after another can outlast the nodes' timestamp tolerance.
                let body = try requests.body(ofRequest: i).body
                let sent = ContinuousClock.now
                let reply = try await client.post("/v1/txs?wait=commit", body: body)
                let ms = Double((ContinuousClock.now - sent).nanoseconds) / 1e6
                if reply.status == 200, reply.json?["status"]?.stringValue == "committed" {
                    latencies.append(ms)
                } else {
                    notCommitted += 1
                }
            }
            return IdleReport(latencies: latencies.sorted(), notCommitted: notCommitted)
        }
    }
}
