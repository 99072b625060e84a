// XiangChain contract SDK for Embedded Swift: what a contract uses.
//
// A contract defines one function,
//
//     func dispatch(_ call: Call) throws(XCError) -> JSON
//
// which the SDK's entry point `xc_call` runs for every transaction (and query): the method name
// and the parsed JSON arguments in, a JSON result out. Throwing an `XCError` fails the transaction
// with that code and message, and none of its writes are kept.

/// A failure with a stable snake_case code and a message, as the chain records it.
public struct XCError: Error, Equatable {
    /// Stable machine-readable code, for example `bad_args`.
    public var code: String
    /// Message for people; keep it deterministic (it is hashed into the block).
    public var message: String

    /// Creates an error.
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// One call of the contract.
public struct Call {
    /// The method name.
    public let method: String
    /// The arguments (a JSON object for well-behaved callers).
    public let args: JSON
}

/// One state entry from a scan.
public struct XCEntry {
    /// The key, relative to the contract's namespace.
    public let key: String
    /// The stored bytes.
    public let value: [UInt8]
}

/// Who signed the transaction.
public struct XCSigner {
    /// Organisation.
    public let org: String
    /// Role.
    public let role: String
    /// Account name.
    public let subject: String
    /// Certificate fingerprint (lowercase hex SHA-256).
    public let fingerprint: String
}

/// The host's services: state, the signer, the block, events, errors and native queries.
public enum XC {
    // MARK: State

    /// The value under `key` in this contract's state, or nil.
    public static func get(_ key: String) -> [UInt8]? {
        _xcWithString(key) { p, n in _xcTake(_xc_state_get(p, n)) }
    }

    /// The JSON value under `key`; fails with `corrupt_state` if it does not parse.
    public static func getJSON(_ key: String) throws(XCError) -> JSON? {
        guard let bytes = get(key) else { return nil }
        do {
            return try JSON.parse(bytes)
        } catch {
            throw XCError("corrupt_state", "the value under \(key) is not valid JSON")
        }
    }

    /// Sets `key` to `value`.
    public static func put(_ key: String, _ value: [UInt8]) {
        _xcWithString(key) { kp, kn in
            _xcWithBytes(value) { vp, vn in _xc_state_put(kp, kn, vp, vn) }
        }
    }

    /// Sets `key` to a JSON value.
    public static func putJSON(_ key: String, _ value: JSON) {
        _xcWithString(key) { kp, kn in
            value.withSerialized { buffer in
                _xc_state_put(kp, kn, UInt32(UInt(bitPattern: buffer.baseAddress)), UInt32(buffer.count))
            }
        }
    }

    /// Deletes `key`.
    public static func delete(_ key: String) {
        _xcWithString(key) { p, n in _xc_state_delete(p, n) }
    }

    /// Up to `limit` entries whose key starts with `prefix` and comes after `after`, in byte order
    /// of the key. The host clamps `limit` to the chain's maximum.
    public static func scan(prefix: String, after: String? = nil, limit: Int = 100) -> [XCEntry] {
        let packed = _xcWithString(prefix) { pp, pn in
            if let after {
                return _xcWithString(after) { ap, an in _xc_state_scan(pp, pn, ap, an, Int32(truncatingIfNeeded: limit)) }
            }
            return _xc_state_scan(pp, pn, 0, UInt32.max, Int32(truncatingIfNeeded: limit))
        }
        guard let bytes = _xcTake(packed) else { return [] }
        var pos = 0
        func u32() -> Int {
            guard pos + 4 <= bytes.count else { return 0 }
            let v = Int(bytes[pos]) | Int(bytes[pos + 1]) << 8 | Int(bytes[pos + 2]) << 16 | Int(bytes[pos + 3]) << 24
            pos += 4
            return v
        }
        let count = u32()
        var entries: [XCEntry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let kn = u32()
            let key = String(decoding: bytes[pos..<pos + kn], as: UTF8.self)
            pos += kn
            let vn = u32()
            let value = Array(bytes[pos..<pos + vn])
            pos += vn
            entries.append(XCEntry(key: key, value: value))
        }
        return entries
    }

    // MARK: Signer, transaction, block

    static func text(_ packed: Int64) -> String {
        String(decoding: _xcTake(packed) ?? [], as: UTF8.self)
    }

    /// The signer's organisation.
    public static func signerOrg() -> String { text(_xc_signer_org()) }
    /// The signer's role.
    public static func signerRole() -> String { text(_xc_signer_role()) }
    /// The signer's account name.
    public static func signerSubject() -> String { text(_xc_signer_subject()) }
    /// The signer's certificate fingerprint.
    public static func signerFingerprint() -> String { text(_xc_signer_fingerprint()) }

    /// All four facts about the signer.
    public static func signer() -> XCSigner {
        XCSigner(org: signerOrg(), role: signerRole(), subject: signerSubject(), fingerprint: signerFingerprint())
    }

    /// The transaction id (empty in a query).
    public static func txID() -> String { text(_xc_tx_id()) }
    /// The block's height.
    public static func blockHeight() -> Int64 { _xc_block_height() }
    /// The block's timestamp, unix milliseconds: the only clock there is.
    public static func blockTime() -> Int64 { _xc_block_time() }

    // MARK: Events, native queries, logs

    /// Emits an event, kept with the transaction if it succeeds.
    public static func emit(_ name: String, _ data: JSON) {
        _xcWithString(name) { np, nn in
            data.withSerialized { buffer in
                _xc_emit(np, nn, UInt32(UInt(bitPattern: buffer.baseAddress)), UInt32(buffer.count))
            }
        }
    }

    /// Runs a read-only query of a native contract: its result, or the error it failed with.
    public static func query(contract: String, method: String, args: JSON) -> Result<JSON, XCError> {
        let packed = _xcWithString(contract) { cp, cn in
            _xcWithString(method) { mp, mn in
                _xcWithBytes(args.serialized()) { ap, an in _xc_query(cp, cn, mp, mn, ap, an) }
            }
        }
        guard let bytes = _xcTake(packed), let envelope = try? JSON.parse(bytes) else {
            return .failure(XCError("query_failed", "the host gave no answer"))
        }
        if let ok = envelope["ok"] { return .success(ok) }
        let error = envelope["error"]
        return .failure(XCError(error?["code"]?.string ?? "query_failed", error?["message"]?.string ?? ""))
    }

    /// Writes a line to the node's debug log (not part of consensus; costs fuel like any host call).
    public static func log(_ text: String) {
        _xcWithString(text) { p, n in _xc_debug_log(p, n) }
    }

    // MARK: Errors

    /// Fails the transaction now with `code` and `message`; nothing it wrote is kept.
    public static func fail(_ code: String, _ message: String) -> Never {
        _xcWithString(code) { cp, cn in
            _xcWithString(message) { mp, mn in _xc_fail(cp, cn, mp, mn) }
        }
        fatalError()
    }

    /// Fails with `role_not_allowed` unless the signer has one of `roles`; returns the signer's role.
    @discardableResult
    public static func requireRole(_ roles: String..., for step: String) throws(XCError) -> String {
        let role = signerRole()
        for allowed in roles where allowed == role { return role }
        var names = ""
        for (i, r) in roles.enumerated() {
            if i > 0 { names += " or " }
            names += r
        }
        throw XCError("role_not_allowed", "\(step) needs role \(names); signer has \(role)")
    }
}

/// Reads call arguments, failing with `bad_args` and a message that names the field.
public struct Args {
    /// The members.
    public let members: [JSONMember]

    /// Wraps a call's arguments; refuses members other than `allowed`.
    public init(_ args: JSON, allowed: [String]) throws(XCError) {
        guard let members = args.members else { throw XCError("bad_args", "args must be an object") }
        for member in members {
            var known = false
            for name in allowed where name == member.key {
                known = true
                break
            }
            if !known { throw XCError("bad_args", "unknown argument \"\(member.key)\"") }
        }
        self.members = members
    }

    /// The raw value of a member; nil when absent or null.
    public subscript(name: String) -> JSON? {
        for member in members where member.key == name {
            return member.value.isNull ? nil : member.value
        }
        return nil
    }

    /// A required string of 1...maxLength bytes of UTF-8.
    public func string(_ name: String, maxLength: Int = 256) throws(XCError) -> String {
        guard let s = self[name]?.string else { throw XCError("bad_args", "\"\(name)\" must be a string") }
        let n = s.utf8.count
        guard n > 0, n <= maxLength else {
            throw XCError("bad_args", "\"\(name)\" must be 1-\(maxLength) bytes")
        }
        return s
    }

    /// An optional string.
    public func optionalString(_ name: String, maxLength: Int = 256) throws(XCError) -> String? {
        guard self[name] != nil else { return nil }
        return try string(name, maxLength: maxLength)
    }

    /// A required integer in `range`.
    public func int(_ name: String, in range: ClosedRange<Int64>) throws(XCError) -> Int64 {
        guard let v = self[name]?.int, range.contains(v) else {
            throw XCError("bad_args", "\"\(name)\" must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// An optional integer in `range`.
    public func optionalInt(_ name: String, in range: ClosedRange<Int64>) throws(XCError) -> Int64? {
        guard self[name] != nil else { return nil }
        return try int(name, in: range)
    }

    /// An optional boolean.
    public func optionalBool(_ name: String) throws(XCError) -> Bool? {
        guard let v = self[name] else { return nil }
        guard let b = v.bool else { throw XCError("bad_args", "\"\(name)\" must be true or false") }
        return b
    }

    /// A required boolean.
    public func bool(_ name: String) throws(XCError) -> Bool {
        guard let b = try optionalBool(name) else { throw XCError("bad_args", "\"\(name)\" must be true or false") }
        return b
    }
}

// MARK: - Entry point

/// The entry point the host calls: runs the contract's `dispatch` and reports its result or error.
@_expose(wasm, "xc_call")
@_cdecl("xc_call")
public func _xcCall(_ methodPtr: UInt32, _ methodLen: UInt32, _ argsPtr: UInt32, _ argsLen: UInt32) -> Int32 {
    let method = String(decoding: _xcTake(Int64(methodPtr) << 32 | Int64(methodLen)) ?? [], as: UTF8.self)
    let argBytes = _xcTake(Int64(argsPtr) << 32 | Int64(argsLen)) ?? []
    let args: JSON
    do {
        args = try JSON.parse(argBytes)
    } catch {
        XC.fail("bad_args", "the arguments are not JSON this SDK reads: \(error.message)")
    }
    do {
        let result = try dispatch(Call(method: method, args: args))
        result.withSerialized { buffer in
            _xc_set_result(UInt32(UInt(bitPattern: buffer.baseAddress)), UInt32(buffer.count))
        }
        return 0
    } catch {
        XC.fail(error.code, error.message)
    }
}
