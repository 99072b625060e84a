import ChainCore
import Foundation
import Identity

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What became of one submitted transaction.
struct TxOutcome: Sendable, Codable {
    /// What the step was in the story.
    var step: String
    /// Contract method.
    var method: String
    /// Transaction id.
    var txid: String
    /// "committed" or "failed".
    var status: String
    /// Block height.
    var height: Int64
    /// Error code of a failed execution.
    var error: String?
    /// Error message of a failed execution.
    var message: String?
}

/// One transaction the demo means to submit: who signs, what it calls, and the error it must
/// fail with (nil: it must succeed).
struct DemoStep: Sendable {
    let label: String
    let signer: String
    let method: String
    let args: JSONValue
    var expectError: String?
}

/// Signs crab transactions and submits them to one node with `?wait=commit`.
struct DemoChain: Sendable {
    /// The node's API base URL.
    let base: URL
    /// The chain id (from `/v1/status`).
    let chainId: String
    /// Identities by actor key.
    let signers: [String: SigningIdentity]

    /// Reads the chain id of the node at `base`.
    static func chainId(at base: URL) async throws -> String {
        let (code, body) = try await APIClient.get(base.appendingPathComponent("v1/status"))
        guard code == 200, let id = try JSONParser().parse(body)["chainId"]?.stringValue else {
            throw ChainError(.nodeUnavailable, "cannot read the chain id from \(base.absoluteString)/v1/status (HTTP \(code))")
        }
        return id
    }

    /// Submits one step and waits until it is committed; checks the expected outcome.
    func run(_ step: DemoStep) async throws -> TxOutcome {
        guard let signer = signers[step.signer] else { throw ChainError(.demoFailed, "no identity for \(step.signer)") }
        let tx = try signer.transaction(chain: chainId, contract: "crab", method: step.method, args: step.args)
        let envelope = try JSONEncoder().encode(TransactionSubmission(tx))
        guard let url = URL(string: base.appendingPathComponent("v1/txs").absoluteString + "?wait=commit") else {
            throw ChainError(.badArgs, "bad node URL \(base)")
        }
        let (code, body) = try await APIClient.post(url, json: Array(envelope))
        var answer = try JSONParser().parse(body)
        guard code == 200 || code == 202 else {
            let e = answer["error"]
            throw ChainError(
                .demoFailed,
                "\(step.label) (\(step.method)) was refused by the node: HTTP \(code) \(e?["code"]?.stringValue ?? "") \(e?["message"]?.stringValue ?? "")"
            )
        }
        // Not committed within the node's wait: poll the transaction.
        var polls = 0
        while answer["status"]?.stringValue == "pending" {
            polls += 1
            guard polls < 240 else { throw ChainError(.demoFailed, "\(step.label): transaction \(tx.txid) is still pending") }
            try await Task.sleep(for: .milliseconds(250))
            let (c, b) = try await APIClient.get(base.appendingPathComponent("v1/txs/\(tx.txid)"))
            if c == 200 { answer = try JSONParser().parse(b) }
        }
        let outcome = TxOutcome(
            step: step.label, method: step.method, txid: tx.txid, status: answer["status"]?.stringValue ?? "?",
            height: answer["height"]?.int64Value ?? 0, error: answer["error"]?["code"]?.stringValue,
            message: answer["error"]?["message"]?.stringValue)
        if outcome.error != step.expectError {
            throw ChainError(
                .demoFailed,
                "\(step.label) (\(step.method), tx \(tx.txid)): expected \(step.expectError ?? "success"), got \(outcome.error.map { "\($0): \(outcome.message ?? "")" } ?? "success")"
            )
        }
        return outcome
    }

    /// Submits independent steps together (they may share a block) and waits for all of them.
    func all(_ steps: [DemoStep]) async throws -> [TxOutcome] {
        try await withThrowingTaskGroup(of: (Int, TxOutcome).self) { group in
            for (i, step) in steps.enumerated() { group.addTask { (i, try await run(step)) } }
            var out = [TxOutcome?](repeating: nil, count: steps.count)
            for try await (i, o) in group { out[i] = o }
            return out.compactMap { $0 }
        }
    }
}
