import ChainTesting
import Crypto
import EvidenceContract
import Execution
import Foundation
import Identity
import Storage
import Testing

@testable import ChainCore

@Suite struct EvidenceExecutionTests {
    let consortium: TestConsortium
    let verifier: TransactionVerifier
    let executor = BlockExecutor(registry: ContractRegistry([EvidenceContract()]), hasher: .sha256)

    init() throws {
        consortium = try TestConsortium()
        verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try consortium.memberships(), registry: ContractRegistry([EvidenceContract()]))
    }

    func tx(_ role: Role = .farm, _ args: JSONValue, method: String = "put", contract: String = "evidence") throws
        -> VerifiedTransaction
    {
        let id = try consortium.identity(role)
        let t = try id.transaction(chain: "test-chain", contract: contract, method: method, args: args)
        return try verifier.verify(t, nowMillis: Fixtures.now)
    }

    /// Builds a verified transaction without admission checks (as a block from elsewhere could carry it).
    func raw(_ role: Role, contract: String, method: String, args: JSONValue) throws -> VerifiedTransaction {
        let id = try consortium.identity(role)
        let t = try id.transaction(chain: "test-chain", contract: contract, method: method, args: args)
        let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
        return VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer)
    }

    @Test func putRecordsTheEvidenceWithItsSigner() throws {
        let hash = Fixtures.randomHash()
        let t = try tx(.lab, Fixtures.evidenceArgs(hash: hash.uppercased(), kind: "report", meta: ["page": .int(3)]))
        let out = try executor.execute([t], height: 5, time: 1234, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[0].result.error == nil)
        #expect(out.writes.map(\.key) == ["evidence/\(hash)"])
        let record = try JSONParser().parse(out.writes[0].value!)
        #expect(record["hash"]?.stringValue == hash)
        #expect(record["kind"]?.stringValue == "report")
        #expect(record["height"]?.int64Value == 5 && record["time"]?.int64Value == 1234)
        #expect(record["txid"]?.stringValue == t.id.hex)
        #expect(record["signer"]?["role"]?.stringValue == "lab")
        #expect(out.transactions[0].result.events.map(\.name) == ["evidence_put"])
    }

    /// Each record carries its certificate's fingerprint (what storage files the certificate
    /// under): its signer's bytes, taken from verification rather than hashed again.
    @Test func recordsCarryTheirSignersCertificateFingerprint() throws {
        let txs = try [Role.farm, .lab, .farm].map { try tx($0, Fixtures.evidenceArgs(hash: Fixtures.randomHash())) }
        let out = try executor.execute(txs, height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        for (t, record) in zip(txs, out.transactions) {
            #expect(record.certificateFingerprint == Hash256.sha256(t.transaction.signerCertificate))
            #expect(record.certificateFingerprint == t.signer.certificateHash)
            #expect(record.certificateFingerprint.hex == t.signer.certificateFingerprint)
        }
        #expect(out.transactions[0].certificateFingerprint != out.transactions[1].certificateFingerprint)
    }

    @Test func aSecondPutOfTheSameHashFailsWithAlreadyExistsAndWritesNothing() throws {
        let hash = Fixtures.randomHash()
        let a = try tx(.farm, Fixtures.evidenceArgs(hash: hash))
        let b = try tx(.merchant, Fixtures.evidenceArgs(hash: hash, kind: "other"))
        // Within one block ...
        let out = try executor.execute([a, b], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[1].result.error?.code.rawValue == "already_exists")
        #expect(out.transactions[1].result.events.isEmpty)
        #expect(out.writes.count == 1)
        #expect(try JSONParser().parse(out.writes[0].value!)["kind"]?.stringValue == "doc")
        // ... and across blocks.
        var state = MemoryState()
        state.apply(out.writes)
        let again = try executor.execute([b], height: 2, time: 2, state: state, previousStateHash: out.stateHash)
        #expect(again.transactions[0].result.error?.code.rawValue == "already_exists")
        #expect(again.writes.isEmpty)
    }

    @Test(arguments: [
        (JSONValue.object(["kind": .string("doc")]), "hash"),
        (.object(["hash": .string("abc"), "kind": .string("doc")]), "hash"),
        (.object(["hash": .string(String(repeating: "g", count: 64)), "kind": .string("doc")]), "hash"),
        (.object(["hash": .int(5), "kind": .string("doc")]), "hash"),
        (.object(["hash": .string(String(repeating: "a", count: 64))]), "kind"),
        (
            .object(["hash": .string(String(repeating: "a", count: 64)), "kind": .string(String(repeating: "k", count: 65))]),
            "kind"
        ),
        (.object(["hash": .string(String(repeating: "a", count: 64)), "kind": .string("d"), "meta": .array([])]), "meta"),
        (.object(["hash": .string(String(repeating: "a", count: 64)), "kind": .string("d"), "owner": .string("x")]), "owner"),
    ])
    func badArgumentsFailWithBadArgs(args: JSONValue, mentions: String) throws {
        let out = try executor.execute([try tx(.farm, args)], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        let e = try #require(out.transactions[0].result.error)
        #expect(e.code.rawValue == "bad_args")
        #expect(e.message.contains(mentions))
        #expect(out.writes.isEmpty)
    }

    @Test func metaOver4KiBFails() throws {
        let big = JSONValue.string(String(repeating: "x", count: 4100))
        let out = try executor.execute(
            [try tx(.farm, Fixtures.evidenceArgs(meta: ["blob": big]))], height: 1, time: 1, state: MemoryState(),
            previousStateHash: .zero)
        #expect(out.transactions[0].result.error?.code.rawValue == "meta_too_large")
        #expect(out.writes.isEmpty)
    }

    @Test func admissionNamesTheReason() throws {
        for (role, contract, method, code) in [
            (Role.node, "evidence", "put", "role_not_allowed"), (.farm, "nosuch", "put", "unknown_contract"),
            (.farm, "evidence", "delete", "unknown_method"),
        ] {
            do {
                _ = try tx(role, Fixtures.evidenceArgs(), method: method, contract: contract)
                Issue.record("admitted \(contract).\(method) by \(role)")
            } catch let e as ChainError {
                #expect(e.code.rawValue == code)
            }
        }
    }

    /// Gossip is verified in batches (`TransactionVerifier.verify(_:nowMillis:)` for many, one
    /// batch check of the signatures): each transaction gets the outcome it gets alone — the same
    /// verified transaction, or the same error code — whatever it is batched with.
    @Test func aBatchGivesEachTransactionItsOwnOutcome() throws {
        let farm = try consortium.identity(.farm)
        var txs: [SignedTransaction] = []
        for _ in 0..<6 {
            txs.append(
                try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
        }
        let good = txs[0]
        func altered(_ t: SignedTransaction, signature: [UInt8]) -> SignedTransaction {
            SignedTransaction(body: t.body, signature: signature, signerCertificate: t.signerCertificate, hasher: .sha256)
        }
        var flipped = good.signature
        flipped[40] ^= 0x10
        txs.append(altered(txs[1], signature: flipped))  // bad_signature (another body's signature, altered)
        txs.append(altered(txs[2], signature: Array(txs[2].signature.dropLast())))  // malformed_signature
        txs.append(altered(txs[3], signature: txs[4].signature))  // bad_signature: another body's
        txs.append(
            try consortium.identity(.node).transaction(
                chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))  // role
        txs.append(
            try farm.transaction(chain: "other-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs()))
        txs.append(try farm.transaction(chain: "test-chain", contract: "nosuch", method: "put", args: Fixtures.evidenceArgs()))
        txs.append(SignedTransaction(body: [1, 2], signature: good.signature, signerCertificate: [], hasher: .sha256))
        func outcome(_ r: Result<VerifiedTransaction, ChainError>) -> String {
            switch r {
            case .success(let v): return "ok \(v.id.hex) \(v.signer.certificateFingerprint)"
            case .failure(let e): return e.code.rawValue
            }
        }
        let alone = txs.map { t in outcome(Result { () throws(ChainError) in try verifier.verify(t, nowMillis: Fixtures.now) }) }
        #expect(alone.filter { $0.hasPrefix("ok ") }.count == 6)
        #expect(
            alone[6...]
                == [
                    "bad_signature", "malformed_signature", "bad_signature", "role_not_allowed", "wrong_chain",
                    "unknown_contract", "malformed_body",
                ][...])
        // In one batch, in another order, and in small batches.
        #expect(verifier.verify(txs, nowMillis: Fixtures.now).map(outcome) == alone)
        let order = Array(txs.indices.reversed())
        #expect(verifier.verify(order.map { txs[$0] }, nowMillis: Fixtures.now).map(outcome) == order.map { alone[$0] })
        for size in [1, 2, 3] {
            for start in stride(from: 0, to: txs.count, by: size) {
                let part = Array(txs[start..<min(txs.count, start + size)])
                #expect(verifier.verify(part, nowMillis: Fixtures.now).map(outcome) == Array(alone[start..<start + part.count]))
            }
        }
        #expect(verifier.verify([], nowMillis: Fixtures.now).isEmpty)
    }

    /// A signature that fails in a batch gets the error it gets alone, message and all, under
    /// every suite: `malformed_signature` for bytes not of the suite's encoding, `bad_signature`
    /// for a well-formed one that does not verify (the batch's verdict is final: it is not
    /// verified again to choose between them).
    @Test(arguments: CryptoSuite.allCases)
    func aFailedSignatureInABatchGetsTheErrorItGetsAlone(suite: CryptoSuite) throws {
        let consortium = try TestConsortium(suite: suite)
        let verifier = TransactionVerifier(
            chainId: "test-chain", memberships: try consortium.memberships(), registry: ContractRegistry([EvidenceContract()]))
        let farm = try consortium.identity(.farm)
        let txs = try (0..<4).map { _ in
            try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
        }
        func altered(_ t: SignedTransaction, signature: [UInt8]) -> SignedTransaction {
            SignedTransaction(body: t.body, signature: signature, signerCertificate: t.signerCertificate, hasher: suite.hasher)
        }
        let batch = [
            txs[0],
            altered(txs[1], signature: txs[2].signature),  // well-formed, another body's
            altered(txs[2], signature: Array(txs[2].signature.dropLast())),  // not of the suite's encoding
            txs[3],
        ]
        let alone = batch.map { t in Result { () throws(ChainError) in try verifier.verify(t, nowMillis: Fixtures.now) } }
        let together = verifier.verify(batch, nowMillis: Fixtures.now)
        #expect(together.map { try? $0.get().id } == [txs[0].id, nil, nil, txs[3].id])
        #expect(together.map { try? $0.get().id } == alone.map { try? $0.get().id })
        let errors = together.compactMap { if case .failure(let e) = $0 { e } else { nil } }
        #expect(errors == alone.compactMap { if case .failure(let e) = $0 { e } else { nil } })
        #expect(errors.map(\.code) == [.badSignature, .malformedSignature])
        #expect(errors[0].message == "the transaction's signature does not verify")
    }

    /// Transactions' signatures are held to the cofactored rule (`Ed25519Rule`) alone and in a
    /// batch alike: one whose R its signer moved by a point of order 2 is admitted both ways (the
    /// cofactorless rule of every other signature refuses it); one whose R is that point is
    /// refused both ways.
    @Test func aTransactionIsHeldToTheCofactoredRuleAloneAndInABatch() throws {
        let farm = try consortium.identity(.farm)
        guard case .ed25519(let key) = farm.key.backing else { throw ChainError(.internalError, "not an Ed25519 key") }
        let honest = try farm.transaction(chain: "test-chain", contract: "evidence", method: "put", args: Fixtures.evidenceArgs())
        let order2: [UInt8] = [0xEC] + Array(repeating: 0xFF, count: 30) + [0x7F]
        func crafted(torsionOnly: Bool) -> SignedTransaction {
            let made = TorsionSignature.make(
                seed: Array(key.rawRepresentation), message: honest.body, torsion: order2, torsionOnly: torsionOnly)
            #expect(made.publicKey == Array(key.publicKey.rawRepresentation))
            return SignedTransaction(
                body: honest.body, signature: made.signature, signerCertificate: honest.signerCertificate, hasher: .sha256)
        }
        let moved = crafted(torsionOnly: false)
        let small = crafted(torsionOnly: true)
        let publicKey = Array(key.publicKey.rawRepresentation)
        #expect(!CryptoSuite.ed25519.verify(signature: moved.signature, message: moved.body, publicKey: publicKey))
        #expect(try verifier.verify(moved, nowMillis: Fixtures.now).id == moved.id)
        let refused = #expect(throws: ChainError.self) { try verifier.verify(small, nowMillis: Fixtures.now) }
        #expect(refused?.code == .badSignature)
        let batch = verifier.verify([moved, small, honest], nowMillis: Fixtures.now)
        #expect((try? batch[0].get())?.id == moved.id)
        #expect((try? batch[1].get()) == nil)
        #expect((try? batch[2].get())?.id == honest.id)
    }

    @Test func executionRechecksRolesContractsAndMethods() throws {
        let txs = [
            try raw(.node, contract: "evidence", method: "put", args: Fixtures.evidenceArgs()),
            try raw(.farm, contract: "nosuch", method: "put", args: .object([:])),
            try raw(.farm, contract: "evidence", method: "delete", args: .object([:])),
        ]
        let out = try executor.execute(txs, height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(
            out.transactions.map { $0.result.error?.code.rawValue } == ["role_not_allowed", "unknown_contract", "unknown_method"])
        #expect(out.writes.isEmpty)
    }

    @Test func executionIsDeterministic() throws {
        let txs = try (0..<20).map { i in
            try tx(.farm, Fixtures.evidenceArgs(hash: i % 5 == 0 ? String(repeating: "a", count: 64) : Fixtures.randomHash()))
        }
        let a = try executor.execute(txs, height: 9, time: 99, state: MemoryState(), previousStateHash: .zero)
        let b = try executor.execute(txs, height: 9, time: 99, state: MemoryState(), previousStateHash: .zero)
        #expect(a.stateHash == b.stateHash && a.resultRoot == b.resultRoot && a.writes == b.writes)
        #expect(a.transactions.filter { $0.result.error != nil }.count == 3)
    }

    @Test func stateReadFaultAbortsTheBlockInsteadOfFailingTheTransaction() throws {
        struct Broken: StateReader {
            func read(_ key: String) throws -> [UInt8]? { throw ChainError(.storageUnavailable, "gone") }
        }
        #expect(throws: StateReadFault.self) {
            try executor.execute(
                [try tx(.farm, Fixtures.evidenceArgs())], height: 1, time: 1, state: Broken(), previousStateHash: .zero)
        }
    }
}

/// A contract that writes keys given in its args, to test key handling.
struct KeyWriter: Contract {
    let name = "keys"
    func allowedRoles(method: String) -> Set<Role>? { method == "set" ? Set(Role.allCases) : nil }
    func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        for k in args["keys"]?.arrayValue ?? [] { context.put(k.stringValue!, Array(k.stringValue!.utf8)) }
    }
}

/// A contract that reads keys given in its args and records under `found` whether any had a value.
struct KeyProbe: Contract {
    let name = "keys"
    func allowedRoles(method: String) -> Set<Role>? { method == "probe" ? Set(Role.allCases) : nil }
    func execute(method: String, args: JSONValue, context: ExecutionContext) throws {
        let found = try (args["keys"]?.arrayValue ?? []).contains { try context.get($0.stringValue!) != nil }
        context.putJSON("found", .bool(found))
    }
}

/// Committed state as SQLite keeps it: a key is bound as a C string, so it ends at a NUL.
struct CutAtNULState: StateReader {
    let values: [String: [UInt8]]
    func read(_ key: String) throws -> [UInt8]? {
        values[String(decoding: key.utf8.prefix { $0 != 0 }, as: UTF8.self)]
    }
}

@Suite struct StateKeyTests {
    func verified(_ method: String, keys: [String]) throws -> VerifiedTransaction {
        let consortium = try TestConsortium()
        let t = try consortium.identity(.farm).transaction(
            chain: "test-chain", contract: "keys", method: method, args: .object(["keys": .array(keys.map(JSONValue.string))]))
        let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
        return VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer)
    }

    /// Written with a NUL, "a\u{0}b" would land on the committed key "a" (and be deleted as "a"):
    /// such a key fails its transaction, which writes nothing.
    @Test func aKeyHoldingNULFailsItsTransactionAndWritesNothing() throws {
        let out = try BlockExecutor(registry: ContractRegistry([KeyWriter()]), hasher: .sha256).execute(
            [try verified("set", keys: ["ok", "a\u{0}b"])], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.transactions[0].result.error?.code == .badStateKey)
        #expect(out.writes.isEmpty)
    }

    /// No key holding a NUL can have been written, so reading one finds nothing, whatever the
    /// store would answer for the key cut short.
    @Test func aKeyHoldingNULIsNeverFound() throws {
        let state = CutAtNULState(values: ["keys/a": [1]])
        let executor = BlockExecutor(registry: ContractRegistry([KeyProbe()]), hasher: .sha256)
        let probe = { (keys: [String]) throws -> JSONValue? in
            let out = try executor.execute(
                [try self.verified("probe", keys: keys)], height: 1, time: 1, state: state, previousStateHash: .zero)
            #expect(out.transactions[0].result.error == nil)
            return out.writes.first.flatMap { $0.value }.flatMap { try? JSONParser().parse($0) }
        }
        #expect(try probe(["a"]) == .bool(true))
        #expect(try probe(["a\u{0}b"]) == .bool(false))
        #expect(try probe(["a\u{0}"]) == .bool(false))
        // A native query reads the same way.
        let queries = QueryState(contract: "keys", read: { try state.read($0) })
        #expect(try queries.get("a") == [1])
        #expect(try queries.get("a\u{0}b") == nil)
    }

    @Test func canonicallyEquivalentKeysStayDistinctAsTheyAreOnDisk() throws {
        let consortium = try TestConsortium()
        let id = try consortium.identity(.farm)
        let composed = "caf\u{e9}"  // é as one code point
        let decomposed = "cafe\u{301}"  // e + combining accent: equal as Swift Strings
        #expect(composed == decomposed)
        let t = try id.transaction(
            chain: "test-chain", contract: "keys", method: "set",
            args: .object(["keys": .array([.string(composed), .string(decomposed)])]))
        let (signer, _) = try consortium.membership().verify(certificateDER: t.signerCertificate, at: Date())
        let v = VerifiedTransaction(transaction: t, body: try TransactionBody.parse(t.body), signer: signer)
        let out = try BlockExecutor(registry: ContractRegistry([KeyWriter()]), hasher: .sha256).execute(
            [v], height: 1, time: 1, state: MemoryState(), previousStateHash: .zero)
        #expect(out.writes.count == 2)
        #expect(Set(out.writes.map { Array($0.key.utf8) }).count == 2)
    }
}
