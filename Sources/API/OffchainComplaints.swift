import ChainCore
import Foundation
import Identity
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Consumers' phone numbers and complaint texts, kept off chain on this node so the desk can read
/// them and call back (the chain gets the text's salted hash only).
///
/// The chain gets only `phoneHash = hex SHA-256("XIANGCHAIN-PHONE-V1" ‖ 0x00 ‖ salt ‖ 0x00 ‖ phone)`,
/// where `salt` is 32 random bytes made on first use and kept in the node home (`phone-salt`, 0600).
/// Each node has its own salt, so the same phone hashes differently on two nodes. Every complaint
/// taken by this node appends one JSON line `{txid, phone, phoneHash, object, city?, receivedAt}` to
/// `data/offchain-complaints.jsonl` (0600) before its transaction is submitted; a line whose txid
/// never commits is a complaint that did not reach the chain.
public final class OffchainComplaints: Sendable {
    /// Domain separation tag of the phone hash.
    public static let domain = "XIANGCHAIN-PHONE-V1"
    /// The append-only complaint file.
    public let fileURL: URL
    let salt: [UInt8]
    let lock = Mutex<Void>(())

    /// Opens (creating when missing) the salt at `saltURL` and the complaint file at `fileURL`.
    public init(saltURL: URL, fileURL: URL) throws {
        self.fileURL = fileURL
        for dir in [saltURL.deletingLastPathComponent(), fileURL.deletingLastPathComponent()] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        salt = try SecretFile.loadOrCreateKey(saltURL)
    }

    /// The files of a node home: `<home>/phone-salt` and `<home>/data/offchain-complaints.jsonl`.
    public convenience init(home: URL) throws {
        try self.init(
            saltURL: home.appendingPathComponent("phone-salt"),
            fileURL: home.appendingPathComponent("data/offchain-complaints.jsonl"))
    }

    /// The salted hash of a (validated) phone number, 64 lowercase hex characters.
    public func phoneHash(_ phone: String) -> String {
        var bytes = Array(Self.domain.utf8)
        bytes.append(0)
        bytes += salt
        bytes.append(0)
        bytes += Array(phone.utf8)
        return Hash256.sha256(bytes).hex
    }

    /// Appends one complaint's contact line.
    public func append(
        txid: String, phone: String, phoneHash: String, object: String, city: String?, receivedAt: Int64,
        text: String? = nil, textHash: String? = nil
    ) throws {
        var o: [String: JSONValue] = [
            "txid": .string(txid), "phone": .string(phone), "phoneHash": .string(phoneHash), "object": .string(object),
            "receivedAt": .int(receivedAt),
        ]
        if let city { o["city"] = .string(city) }
        if let text { o["text"] = .string(text) }
        if let textHash { o["textHash"] = .string(textHash) }
        let line = JSONValue.object(o).canonicalBytes + [0x0A]
        try lock.withLock { _ in
            let fd = open(fileURL.path, O_RDWR | O_CREAT | O_APPEND, 0o600)
            guard fd >= 0 else { throw ChainError(.storageUnavailable, "cannot open \(fileURL.path): errno \(errno)") }
            defer { close(fd) }
            // A crash mid-write leaves a last line without its newline: end it first, so that the
            // torn fragment stays a line of its own (skipped by `contacts`) and this one is whole.
            var last: UInt8 = 0x0A
            let size = lseek(fd, 0, SEEK_END)
            if size > 0 { _ = pread(fd, &last, 1, size - 1) }
            let line = last == 0x0A ? line : [0x0A] + line
            let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == line.count, fsync(fd) == 0 else {
                throw ChainError(.storageUnavailable, "cannot append to \(fileURL.path): errno \(errno)")
            }
        }
    }

    /// Phone and text (kept off chain) by complaint txid (lines that do not parse are skipped).
    public func entries() throws -> [String: (phone: String, text: String?)] {
        guard let data = lock.withLock({ _ in try? Data(contentsOf: fileURL) }) else { return [:] }
        var out: [String: (phone: String, text: String?)] = [:]
        for line in data.split(separator: 0x0A) {
            guard let o = (try? JSONParser().parse(Array(line)))?.objectValue, let txid = o["txid"]?.stringValue,
                let phone = o["phone"]?.stringValue
            else { continue }
            out[txid] = (phone, o["text"]?.stringValue)
        }
        return out
    }

    /// Phone numbers by complaint txid (lines that do not parse are skipped).
    public func contacts() throws -> [String: String] {
        guard let data = lock.withLock({ _ in try? Data(contentsOf: fileURL) }) else { return [:] }
        var out: [String: String] = [:]
        for line in data.split(separator: 0x0A) {
            guard let o = (try? JSONParser().parse(Array(line)))?.objectValue, let txid = o["txid"]?.stringValue,
                let phone = o["phone"]?.stringValue
            else { continue }
            out[txid] = phone
        }
        return out
    }
}
