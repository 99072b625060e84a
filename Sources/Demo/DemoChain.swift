import ChainClient
import ChainCore
import Foundation
import Identity

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
    let call: ContractCall
    var expectError: String?

    /// The crab method called.
    var method: String { call.method }
}

/// Signs crab transactions and submits them to one node, waiting for each commit.
struct DemoChain: Sendable {
    /// The node.
    let client: ChainClient
    /// The chain id (from `/v1/status`).
    let chainId: String
    /// Identities by actor key.
    let signers: [String: SigningIdentity]

    /// Submits one step and waits until it is committed; checks the expected outcome.
    func run(_ step: DemoStep) async throws -> TxOutcome {
        guard let signer = signers[step.signer] else { throw ChainError(.demoFailed, "no identity for \(step.signer)") }
        let tx = try signer.transaction(chain: chainId, call: step.call)
        let answer: SubmitOutcome
        do {
            answer = try await client.submitAndWait(tx)
        } catch let e as ChainError {
            throw ChainError(
                .demoFailed, "\(step.label) (\(step.method)) was refused by the node: \(e.code.rawValue) \(e.message)")
        }
        let outcome = TxOutcome(
            step: step.label, method: step.method, txid: tx.txid, status: answer.status,
            height: Int64(answer.height ?? 0), error: answer.error?.code.rawValue, message: answer.error?.message)
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
