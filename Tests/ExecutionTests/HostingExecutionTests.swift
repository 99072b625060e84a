import ChainCore
import ChainTesting
import EvidenceContract
import Execution
import Foundation
import Identity
import Storage
import Testing

/// `hosting.record`: a node's sealed record for the other nodes of its org. The chain checks the
/// signer (a node), the size and the alphabet; it keeps no state and emits `record {org, box}`.
@Suite struct HostingExecutionTests {
    let consortium: TestConsortium
    let registry = ContractRegistry([HostingContract()])
    let executor = BlockExecutor(registry: ContractRegistry([HostingContract()]), hasher: .sha256)

    init() throws { consortium = try TestConsortium() }

    func raw(_ role: Role, _ args: JSONValue) throws -> VerifiedTransaction {
        let id = try consortium.identity(role)
        let t = try id.transaction(chain: "test-chain", contract: "hosting", method: "record", args: args)
        let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
        return VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer)
    }

    @Test func aNodeRecordsASealedBoxForItsOrg() throws {
        let box = Data((0..<200).map { UInt8($0) }).base64EncodedString()
        let t = try raw(.node, .object(["box": .string(box)]))
        let out = try executor.execute([t], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[0].result.error == nil)
        #expect(out.writes.isEmpty)
        let event = try #require(out.transactions[0].result.events.first)
        #expect(event.name == "record" && event.contract == "hosting")
        #expect(event.data["box"]?.stringValue == box && event.data["org"]?.stringValue == t.signer.org)
    }

    @Test func hostileRecordsAreRefused() throws {
        let big = String(repeating: "A", count: HostingContract.maxBoxCharacters + 4)
        let cases: [(Role, JSONValue, String)] = [
            (.farm, .object(["box": .string("AAAA")]), "role_not_allowed"),
            (.admin, .object(["box": .string("AAAA")]), "role_not_allowed"),
            (.node, .object(["box": .string(big)]), "bad_args"),
            (.node, .object(["box": .string("13912345678 张三")]), "bad_args"),
            (.node, .object(["box": .string("AAA")]), "bad_args"),
            (.node, .object(["box": .int(5)]), "bad_args"),
            (.node, .object(["box": .string("AAAA"), "phone": .string("13912345678")]), "bad_args"),
            (.node, .object([:]), "bad_args"),
        ]
        for (role, args, code) in cases {
            let out = try executor.execute(
                [try raw(role, args)], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
            #expect(out.transactions[0].result.error?.code.rawValue == code, "\(role) \(args.canonicalString.prefix(80))")
            #expect(out.transactions[0].result.events.isEmpty)
        }
        #expect(registry["hosting"]?.allowedRoles(method: "record") == [.node])
        #expect(registry["hosting"]?.allowedRoles(method: "other") == nil)
    }
}
