import Accounts
import ChainCore
import Foundation
import Identity
import Node
import Storage

/// How chain objects look in the API's JSON.
enum JSONViews {
    static func header(_ h: BlockHeader) -> JSONValue {
        .object([
            "version": .int(Int(h.version)), "chainId": .string(h.chainId), "height": .int(Int64(h.height)),
            "parentHash": .string(h.parentHash.hex), "timestamp": .int(h.timestamp), "proposer": .string(h.proposer),
            "txCount": .int(Int(h.txCount)), "txRoot": .string(h.txRoot.hex), "execHeight": .int(Int64(h.execHeight)),
            "resultRoot": .string(h.resultRoot.hex), "stateHash": .string(h.stateHash.hex),
        ])
    }

    static func signatures(_ sigs: [ValidatorSignature]) -> JSONValue {
        .array(
            sigs.map {
                .object(["validator": .string($0.validator), "signature": .string(Data($0.signature).base64EncodedString())])
            })
    }

    static func block(_ b: StoredBlock) -> JSONValue {
        .object([
            "height": .int(Int64(b.header.height)), "hash": .string(b.hash.hex), "header": header(b.header),
            "headerBytes": .string(Data(b.header.encoded).base64EncodedString()),
            "signatures": signatures(b.signatures), "txids": .array(b.txids.map { .string($0.hex) }),
            "resultRoot": .string(b.resultRoot.hex), "stateHash": .string(b.stateHash.hex),
        ])
    }

    static func events(_ events: [ContractEvent]) -> JSONValue {
        .array(events.map { .object(["contract": .string($0.contract), "name": .string($0.name), "data": $0.data]) })
    }

    static func transaction(_ t: StoredTransaction, blockTime: Int64?) -> JSONValue {
        var o: [String: JSONValue] = [
            "txid": .string(t.transaction.txid), "status": .string(t.result.succeeded ? "committed" : "failed"),
            "height": .int(Int64(t.height)), "index": .int(t.index), "contract": .string(t.contract),
            "method": .string(t.method),
            "signer": .object([
                "org": .string(t.signerOrg), "role": .string(t.signerRole), "subject": .string(t.signerSubject),
                "certificateFingerprint": .string(Hash256.sha256(t.transaction.signerCertificate).hex),
            ]),
            "events": events(t.result.events),
        ]
        if let body = try? TransactionBody.parse(t.transaction.body) {
            o["args"] = body.args
            o["nonce"] = .string(body.nonce)
            o["timestamp"] = .int(body.timestamp)
        }
        if let blockTime { o["blockTime"] = .int(blockTime) }
        if let e = t.result.error { o["error"] = APIError.errorObject(e) }
        // Part of the result leaf: present exactly when the result record holds a value.
        if let value = t.result.value { o["result"] = value }
        return .object(o)
    }

    /// An audit log entry.
    static func audit(_ e: AuditEntry) -> JSONValue {
        .object([
            "seq": .int(e.seq), "time": .int(e.time), "org": .string(e.org), "username": .string(e.username),
            "action": .string(e.action), "detail": .string(e.detail), "result": .string(e.result), "remote": .string(e.remote),
        ])
    }
}
