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
/// taken by this node appends one JSON line `{txid, phoneHash, object, city?, receivedAt,
/// textHash?, sealed}` to `data/offchain-complaints.jsonl` (0600) before its transaction is
/// submitted; a line whose txid never commits is a complaint that did not reach the chain.
///
/// `sealed` is the base64 of `{phone, text?}` (canonical JSON) encrypted under the node's data key
/// (`<home>/data-key`, 0600) with the suite's cipher (SM4 on `sm2` chains, AES-256-GCM otherwise;
/// ``AtRestCipher``), bound to the line's txid. A file written by an older version (phone and
/// text in plaintext) is rewritten sealed when opened.
public final class OffchainComplaints: Sendable {
    /// Domain separation tag of the phone hash.
    public static let domain = "XIANGCHAIN-PHONE-V1"
    /// The append-only complaint file.
    public let fileURL: URL
    let salt: [UInt8]
    let cipher: AtRestCipher
    let lock = Mutex<Void>(())

    /// Opens (creating when missing) the salt at `saltURL`, the data key at `keyURL` (default:
    /// `data-key` beside the salt) and the complaint file at `fileURL`; seals the contacts of an
    /// older version's file.
    public init(saltURL: URL, fileURL: URL, keyURL: URL? = nil, suite: CryptoSuite) throws {
        self.fileURL = fileURL
        for dir in [saltURL.deletingLastPathComponent(), fileURL.deletingLastPathComponent()] {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        }
        salt = try SecretFile.loadOrCreateKey(saltURL)
        let keyURL = keyURL ?? saltURL.deletingLastPathComponent().appendingPathComponent("data-key")
        cipher = try AtRestCipher(key: try SecretFile.loadOrCreateKey(keyURL), suite: suite)
        try sealPlaintextLines()
    }

    /// The files of a node home: `<home>/phone-salt`, `<home>/data-key` and
    /// `<home>/data/offchain-complaints.jsonl`.
    public convenience init(home: URL, suite: CryptoSuite) throws {
        try self.init(
            saltURL: home.appendingPathComponent("phone-salt"),
            fileURL: home.appendingPathComponent("data/offchain-complaints.jsonl"),
            keyURL: home.appendingPathComponent("data-key"), suite: suite)
    }

    /// What a line's sealed contact is bound to: its txid.
    static func context(_ txid: String) -> String { "XIANGCHAIN-COMPLAINT-V1\u{0}\(txid)" }

    /// The line of one complaint: public fields in clear, phone and text sealed.
    func sealedLine(_ o: [String: JSONValue]) throws -> [UInt8] {
        guard let txid = o["txid"]?.stringValue else { throw ChainError(.internalError, "a complaint line without txid") }
        var secret: [String: JSONValue] = [:]
        if let phone = o["phone"] { secret["phone"] = phone }
        if let text = o["text"] { secret["text"] = text }
        if let reason = o["hideReason"] { secret["hideReason"] = reason }
        var line = o
        line["phone"] = nil
        line["text"] = nil
        line["hideReason"] = nil
        let box = try cipher.seal(JSONValue.object(secret).canonicalBytes, context: Self.context(txid))
        line["sealed"] = .string(Data(box).base64EncodedString())
        return JSONValue.object(line).canonicalBytes + [0x0A]
    }

    /// Phone and text of a parsed line: opened from `sealed`, or as an older version wrote them.
    /// Nil for a line that does not open (altered, another key, moved to another txid).
    func contact(_ o: [String: JSONValue]) -> (txid: String, phone: String, text: String?)? {
        guard let txid = o["txid"]?.stringValue else { return nil }
        if let sealed = o["sealed"]?.stringValue {
            guard let box = Data(base64Encoded: sealed),
                let plain = try? cipher.open(Array(box), context: Self.context(txid)),
                let secret = (try? JSONParser().parse(plain))?.objectValue, let phone = secret["phone"]?.stringValue
            else { return nil }
            return (txid, phone, secret["text"]?.stringValue)
        }
        guard let phone = o["phone"]?.stringValue else { return nil }
        return (txid, phone, o["text"]?.stringValue)
    }

    /// Rewrites a file that holds plaintext contacts (an older version's) with every contact
    /// sealed: a new file (0600, synced) renamed over the old one. Lines that do not parse (a
    /// torn write) are dropped: they could hold part of a phone number and are never read.
    /// Returns how many lines were sealed.
    @discardableResult
    func sealPlaintextLines() throws -> Int {
        try lock.withLock { _ in
            guard let data = try? Data(contentsOf: fileURL) else { return 0 }
            var out: [UInt8] = []
            var sealed = 0
            var dropped = 0
            for line in data.split(separator: 0x0A) {
                guard let o = (try? JSONParser().parse(Array(line)))?.objectValue, o["txid"]?.stringValue != nil else {
                    dropped += 1
                    continue
                }
                if o["phone"] != nil || o["text"] != nil {
                    out += try sealedLine(o)
                    sealed += 1
                } else {
                    out += Array(line) + [0x0A]
                }
            }
            guard sealed > 0 || dropped > 0 else { return 0 }
            try replaceFile(with: out)
            return sealed
        }
    }

    /// Replaces the file with `bytes`: a new file (0600, synced) renamed over the old one, the
    /// directory synced. Call with `lock` held.
    func replaceFile(with out: [UInt8]) throws {
        let temporary = fileURL.appendingPathExtension("sealing")
        try? FileManager.default.removeItem(at: temporary)
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ChainError(.storageUnavailable, "cannot create \(temporary.path): errno \(errno)") }
        let written = out.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == out.count, synced, rename(temporary.path, fileURL.path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw ChainError(.storageUnavailable, "cannot rewrite \(fileURL.path): errno \(errno)")
        }
        let dir = open(fileURL.deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// Every complaint of the file, opened: its public fields with `phone`, `text` (absent once
    /// hidden) and, for a hidden text, `hiddenAt`, `hiddenBy` and `hideReason`; by txid. Lines
    /// that do not parse or do not open are skipped.
    public func records() -> [String: [String: JSONValue]] {
        guard let data = lock.withLock({ _ in try? Data(contentsOf: fileURL) }) else { return [:] }
        var out: [String: [String: JSONValue]] = [:]
        for line in data.split(separator: 0x0A) {
            guard let o = (try? JSONParser().parse(Array(line)))?.objectValue, let full = opened(o) else { continue }
            out[full["txid"]?.stringValue ?? ""] = full
        }
        return out
    }

    /// A parsed line with its sealed part opened into it (nil when it does not open).
    func opened(_ o: [String: JSONValue]) -> [String: JSONValue]? {
        guard let txid = o["txid"]?.stringValue else { return nil }
        var full = o
        full["sealed"] = nil
        if let sealed = o["sealed"]?.stringValue {
            guard let box = Data(base64Encoded: sealed),
                let plain = try? cipher.open(Array(box), context: Self.context(txid)),
                let secret = (try? JSONParser().parse(plain))?.objectValue, secret["phone"]?.stringValue != nil
            else { return nil }
            for (k, v) in secret { full[k] = v }
        } else if o["phone"]?.stringValue == nil {
            return nil
        }
        return full
    }

    /// Adds a complaint read from another node of the org (a hosting record), when this file does
    /// not hold it yet; hides its text when the record's is hidden and this file's is not.
    /// Returns true when the file changed. Throws `bad_args` for a record without txid or phone.
    @discardableResult
    public func adopt(_ record: [String: JSONValue]) throws -> Bool {
        guard let txid = record["txid"]?.stringValue, Hex.isLowercase(txid, byteCount: 32),
            let phone = record["phone"]?.stringValue, !phone.isEmpty, phone.utf8.count <= 21
        else { throw ChainError(.badArgs, "a complaint record needs a txid and a phone") }
        let allowed: Set<String> = [
            "txid", "phone", "phoneHash", "object", "city", "receivedAt", "text", "textHash", "hiddenAt", "hiddenBy",
            "hideReason",
        ]
        let clean = record.filter { allowed.contains($0.key) }
        if let mine = records()[txid] {
            guard clean["hiddenAt"] != nil, mine["hiddenAt"] == nil else { return false }
            return try hide(
                txid: txid, by: clean["hiddenBy"]?.stringValue ?? "-", reason: clean["hideReason"]?.stringValue ?? "",
                at: clean["hiddenAt"]?.int64Value ?? 0)
        }
        try appendLine(try sealedLine(clean))
        return true
    }

    /// Hides a complaint's text: the line is rewritten without it (the chain keeps its hash),
    /// with who hid it, when, and why (the reason sealed like the phone). Returns false when the
    /// text was hidden already; throws `not_found` when this file has no such complaint.
    @discardableResult
    public func hide(txid: String, by: String, reason: String, at: Int64) throws -> Bool {
        try lock.withLock { _ in
            let data = (try? Data(contentsOf: fileURL)) ?? Data()
            var out: [UInt8] = []
            var found = false
            var changed = false
            for line in data.split(separator: 0x0A) {
                guard let o = (try? JSONParser().parse(Array(line)))?.objectValue, o["txid"]?.stringValue == txid,
                    var full = opened(o)
                else {
                    out += Array(line) + [0x0A]
                    continue
                }
                found = true
                if full["hiddenAt"] != nil {
                    out += Array(line) + [0x0A]
                    continue
                }
                full["text"] = nil
                full["hiddenAt"] = .int(at)
                full["hiddenBy"] = .string(by)
                full["hideReason"] = .string(reason)
                out += try sealedLine(full)
                changed = true
            }
            guard found else { throw ChainError(.notFound, "this node holds no complaint \(txid)") }
            if changed { try replaceFile(with: out) }
            return changed
        }
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
        try appendLine(try sealedLine(o))
    }

    /// Appends one sealed line.
    func appendLine(_ line: [UInt8]) throws {
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

    /// Phone and text (kept off chain) by complaint txid (lines that do not parse, and sealed
    /// contacts that do not open — altered, another data key, moved to another txid — are skipped).
    public func entries() throws -> [String: (phone: String, text: String?)] {
        guard let data = lock.withLock({ _ in try? Data(contentsOf: fileURL) }) else { return [:] }
        var out: [String: (phone: String, text: String?)] = [:]
        for line in data.split(separator: 0x0A) {
            guard let o = (try? JSONParser().parse(Array(line)))?.objectValue, let c = contact(o) else { continue }
            out[c.txid] = (c.phone, c.text)
        }
        return out
    }

    /// Phone numbers by complaint txid (lines that do not parse or do not open are skipped).
    public func contacts() throws -> [String: String] {
        try entries().mapValues(\.phone)
    }
}
