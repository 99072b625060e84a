import ChainCore
import WasmKit

/// The state of one call: the host functions linked into the instance, the fuel they charge, and
/// what the contract has written, emitted and returned so far.
final class CallSession {
    let store: Store
    let limits: WasmLimits
    let schedule: FuelSchedule
    let context: WasmCallContext
    let host: any WasmHost
    let readOnly: Bool

    var memory: Memory?
    var allocator: Function?

    /// Buffered writes by key; `writeOrder` keeps first-write order.
    var writes: [[UInt8]: [UInt8]?] = [:]
    var writeOrder: [[UInt8]] = []
    var events: [WasmEvent] = []
    var result: JSONValue?
    var logs: [String] = []

    init(store: Store, limits: WasmLimits, schedule: FuelSchedule, context: WasmCallContext, host: any WasmHost, readOnly: Bool) {
        self.store = store
        self.limits = limits
        self.schedule = schedule
        self.context = context
        self.host = host
        self.readOnly = readOnly
    }

    var netWrites: [WasmStateWrite] {
        writeOrder.map { WasmStateWrite(key: $0, value: writes[$0] ?? nil) }
    }

    // MARK: - Fuel

    /// Takes `amount` from the store's budget, or ends the call with `out_of_fuel`.
    func charge(_ amount: UInt64) throws {
        let remaining = store.fuel?.remaining ?? 0
        guard amount <= remaining else { throw CallAbort.outOfFuel }
        store.fuel = Fuel(remaining: remaining - amount)
    }

    /// Base cost of a host call plus `extra`, plus `perByte` for each of `bytes`.
    func chargeCall(extra: UInt64 = 0, bytes: Int = 0) throws {
        try charge(
            FuelMath.add(FuelMath.add(schedule.hostCall, extra), FuelMath.times(schedule.perByte, UInt64(bytes))))
    }

    // MARK: - Linear memory

    /// Copies `length` bytes at `pointer` out of the contract's memory.
    func read(_ pointer: UInt32, _ length: UInt32) throws -> [UInt8] {
        guard let memory else { throw CallAbort.failed(ChainError(.trap, "no memory")) }
        guard Int(pointer) + Int(length) <= memory.byteCount else {
            throw CallAbort.failed(
                ChainError(.trap, "the contract trapped: a host call was given memory outside its linear memory"))
        }
        return memory.withUnsafeBufferPointer(offset: UInt(pointer), count: Int(length)) { Array($0) }
    }

    /// Asks the contract's allocator for space, copies `bytes` there and returns the address.
    func copyIn(_ bytes: [UInt8]) throws -> UInt32 {
        guard let allocator, let memory else { throw CallAbort.failed(ChainError(.trap, "no allocator")) }
        let results = try allocator.invoke([.i32(UInt32(bytes.count))])
        guard case .i32(let pointer)? = results.first, pointer != 0 else {
            throw CallAbort.failed(ChainError(.trap, "the contract trapped: xc_alloc returned no memory"))
        }
        guard Int(pointer) + bytes.count <= memory.byteCount else {
            throw CallAbort.failed(
                ChainError(.trap, "the contract trapped: xc_alloc returned memory outside its linear memory"))
        }
        memory.withUnsafeMutableBufferPointer(offset: UInt(pointer), count: bytes.count) { target in
            target.copyBytes(from: bytes)
        }
        return pointer
    }

    /// Copies `bytes` into the contract and returns the packed (pointer, length) pair.
    func hand(_ bytes: [UInt8]) throws -> Value {
        let pointer = try copyIn(bytes)
        return .i64(UInt64(bitPattern: HostABI.pack(pointer: pointer, length: UInt32(bytes.count))))
    }

    // MARK: - Checks

    func fail(_ code: ErrorCode, _ message: String) -> CallAbort {
        CallAbort.failed(ChainError(code, message))
    }

    /// A key or prefix: valid UTF-8 (the chain's keys are strings) within the length limit.
    func checkKey(_ bytes: [UInt8], allowEmpty: Bool = false) throws {
        guard bytes.count <= limits.maxKeyBytes else {
            throw fail(.limitExceeded, "a key is \(bytes.count) bytes; the limit is \(limits.maxKeyBytes)")
        }
        guard allowEmpty || !bytes.isEmpty else { throw fail(.badHostCall, "a key is empty") }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw fail(.badHostCall, "a key is not valid UTF-8")
        }
        guard !bytes.contains(0) else { throw fail(.badHostCall, "a key holds a NUL character") }
    }

    func utf8(_ bytes: [UInt8], _ what: String) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw fail(.badHostCall, "\(what) is not valid UTF-8")
        }
        return text
    }

    func json(_ bytes: [UInt8], _ what: String) throws -> JSONValue {
        do {
            return try JSONParser().parse(bytes)
        } catch {
            throw fail(.badHostCall, "\(what) is not valid JSON: \(error.message)")
        }
    }

    func checkWritable(_ what: String) throws {
        if readOnly { throw fail(.readOnly, "a query cannot \(what)") }
    }

    /// Runs a host read, turning its errors into faults.
    func hostRead<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw CallAbort.fault(error)
        }
    }

    // MARK: - State

    func stateGet(_ key: [UInt8]) throws -> [UInt8]? {
        try checkKey(key)
        try chargeCall(extra: schedule.stateRead, bytes: key.count)
        let value: [UInt8]?
        if let buffered = writes[key] {
            value = buffered
        } else {
            value = try hostRead { try host.read(key) }
        }
        if let value { try charge(FuelMath.times(schedule.perByte, UInt64(value.count))) }
        return value
    }

    func statePut(_ key: [UInt8], _ value: [UInt8]) throws {
        try checkWritable("write state")
        try checkKey(key)
        guard value.count <= limits.maxValueBytes else {
            throw fail(.limitExceeded, "a value is \(value.count) bytes; the limit is \(limits.maxValueBytes)")
        }
        let bytes = key.count + value.count
        try chargeCall(
            extra: FuelMath.add(schedule.stateWrite, FuelMath.times(schedule.stateWritePerByte, UInt64(bytes))), bytes: bytes)
        record(key, value)
    }

    func stateDelete(_ key: [UInt8]) throws {
        try checkWritable("delete state")
        try checkKey(key)
        try chargeCall(extra: schedule.stateDelete, bytes: key.count)
        record(key, nil)
    }

    func record(_ key: [UInt8], _ value: [UInt8]?) {
        if writes.updateValue(value, forKey: key) == nil { writeOrder.append(key) }
    }

    /// Entries under `prefix` after `after`, merging this call's own writes over the host's view.
    func stateScan(prefix: [UInt8], after: [UInt8]?, limit requested: Int) throws -> [WasmStateEntry] {
        try checkKey(prefix, allowEmpty: true)
        if let after { try checkKey(after, allowEmpty: true) }
        try chargeCall(extra: schedule.stateScan, bytes: prefix.count + (after?.count ?? 0))
        let limit = max(0, min(requested, limits.maxScanEntries))
        guard limit > 0 else { return [] }
        func inRange(_ key: [UInt8]) -> Bool {
            key.starts(with: prefix) && (after.map { $0.lexicographicallyPrecedes(key) } ?? true)
        }
        // Each buffered key in range can hide at most one host entry, so asking the host for that
        // many more than `limit` is enough to fill `limit` after merging.
        let buffered = writeOrder.filter(inRange)
        let fromHost = try hostRead { try host.scan(prefix: prefix, after: after, limit: limit + buffered.count) }
        let bufferedSet = Set(buffered)
        var merged = fromHost.filter { !bufferedSet.contains($0.key) && inRange($0.key) }
        for key in buffered {
            if let value = writes[key] ?? nil { merged.append(WasmStateEntry(key: key, value: value)) }
        }
        merged.sort { $0.key.lexicographicallyPrecedes($1.key) }
        if merged.count > limit { merged.removeLast(merged.count - limit) }
        var bytes = 0
        for entry in merged { bytes += entry.key.count + entry.value.count }
        try charge(
            FuelMath.add(
                FuelMath.times(schedule.scanPerEntry, UInt64(merged.count)), FuelMath.times(schedule.perByte, UInt64(bytes))))
        return merged
    }

    /// The scan result as the contract receives it: u32 count, then per entry u32 key length, key,
    /// u32 value length, value (all little-endian).
    static func encode(_ entries: [WasmStateEntry]) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ n: Int) {
            let v = UInt32(n)
            out.append(contentsOf: [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)])
        }
        u32(entries.count)
        for entry in entries {
            u32(entry.key.count)
            out.append(contentsOf: entry.key)
            u32(entry.value.count)
            out.append(contentsOf: entry.value)
        }
        return out
    }

    // MARK: - Events, results, errors

    func emit(name: [UInt8], data: [UInt8]) throws {
        try checkWritable("emit events")
        guard events.count < limits.maxEvents else {
            throw fail(.limitExceeded, "a call may emit at most \(limits.maxEvents) events")
        }
        guard (1...64).contains(name.count), name.allSatisfy(Self.isNameByte) else {
            throw fail(.badHostCall, "an event name must be 1–64 characters of a-z, A-Z, 0-9, '_', '-', '.'")
        }
        guard data.count <= limits.maxEventBytes else {
            throw fail(.limitExceeded, "an event is \(data.count) bytes; the limit is \(limits.maxEventBytes)")
        }
        let bytes = name.count + data.count
        try chargeCall(extra: FuelMath.add(schedule.emit, FuelMath.times(schedule.emitPerByte, UInt64(bytes))), bytes: bytes)
        let value = try json(data, "event data")
        events.append(WasmEvent(name: String(decoding: name, as: UTF8.self), data: value))
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f || b == 0x2d || b == 0x2e
    }

    func setResult(_ data: [UInt8]) throws {
        guard data.count <= limits.maxResultBytes else {
            throw fail(.limitExceeded, "the result is \(data.count) bytes; the limit is \(limits.maxResultBytes)")
        }
        try chargeCall(bytes: data.count)
        result = try json(data, "the result")
    }

    /// The error a contract reports: a snake_case code and a message cut to the limit.
    func contractFailure(code: [UInt8], message: [UInt8]) -> CallAbort {
        let codeOK =
            (1...64).contains(code.count) && code.first.map { $0 >= 0x61 && $0 <= 0x7a } == true
            && code.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f }
        guard codeOK else {
            return fail(.contractError, "the contract reported an error with an invalid code")
        }
        let errorCode = ErrorCode(named: String(decoding: code, as: UTF8.self))
        guard !WasmErrorCodes.reserved.contains(errorCode) else {
            return fail(.contractError, "the contract reported the runtime's own code \(errorCode.rawValue)")
        }
        var text = String(decoding: message, as: UTF8.self)
        if text.utf8.count > limits.maxErrorMessageBytes {
            var cut = ""
            for character in text {
                if cut.utf8.count + character.utf8.count > limits.maxErrorMessageBytes { break }
                cut.append(character)
            }
            text = cut
        }
        return fail(errorCode, text)
    }

    // MARK: - Native queries

    func nativeQuery(contract: [UInt8], method: [UInt8], args: [UInt8]) throws -> [UInt8] {
        try chargeCall(extra: schedule.nativeQuery, bytes: contract.count + method.count + args.count)
        let name = try utf8(contract, "a contract name")
        let methodName = try utf8(method, "a method name")
        let value = try json(args, "query arguments")
        let envelope: JSONValue
        do {
            envelope = .object(["ok": try host.queryNative(contract: name, method: methodName, args: value)])
        } catch let error as ChainError {
            envelope = .object(["error": .object(["code": .string(error.code.rawValue), "message": .string(error.message)])])
        } catch {
            throw CallAbort.fault(error)
        }
        let bytes = envelope.canonicalBytes
        guard bytes.count <= limits.maxQueryAnswerBytes else {
            throw fail(
                .limitExceeded, "a query answer is \(bytes.count) bytes; the limit is \(limits.maxQueryAnswerBytes)")
        }
        try charge(FuelMath.times(FuelMath.add(schedule.perByte, schedule.queryAnswerPerByte), UInt64(bytes.count)))
        return bytes
    }

    // MARK: - Linking

    /// The host functions `names`, bound to whichever session `slot` holds when they are called.
    static func imports(_ names: [String], store: Store, slot: SessionSlot) -> Imports {
        var imports = Imports()
        for name in names {
            guard let type = HostABI.functions[name], let body = hostFunction(name, slot) else { continue }
            imports.define(module: HostABI.importModule, name: name, Function(store: store, type: type, body: body))
        }
        return imports
    }

    static func hostFunction(_ name: String, _ slot: SessionSlot) -> Function.Implementation? {
        func u32(_ args: [Value], _ i: Int) -> UInt32 {
            if case .i32(let v) = args[i] { return v }
            return 0
        }
        switch name {
        case "state_get":
            return { _, args in
                let s = try slot.session()
                let key = try s.read(u32(args, 0), u32(args, 1))
                guard let value = try s.stateGet(key) else { return [.i64(UInt64(bitPattern: HostABI.none))] }
                return [try s.hand(value)]
            }
        case "state_put":
            return { _, args in
                let s = try slot.session()
                try s.statePut(try s.read(u32(args, 0), u32(args, 1)), try s.read(u32(args, 2), u32(args, 3)))
                return []
            }
        case "state_delete":
            return { _, args in
                let s = try slot.session()
                try s.stateDelete(try s.read(u32(args, 0), u32(args, 1)))
                return []
            }
        case "state_scan":
            return { _, args in
                let s = try slot.session()
                let prefix = try s.read(u32(args, 0), u32(args, 1))
                let afterLength = u32(args, 3)
                let after = afterLength == UInt32.max ? nil : try s.read(u32(args, 2), afterLength)
                let entries = try s.stateScan(prefix: prefix, after: after, limit: Int(Int32(bitPattern: u32(args, 4))))
                return [try s.hand(Self.encode(entries))]
            }
        case "signer_org": return contextString(slot) { $0.signer.org }
        case "signer_role": return contextString(slot) { $0.signer.role }
        case "signer_subject": return contextString(slot) { $0.signer.subject }
        case "signer_fingerprint": return contextString(slot) { $0.signer.certificateFingerprint }
        case "tx_id": return contextString(slot) { $0.transactionID }
        case "block_height":
            return { _, _ in
                let s = try slot.session()
                try s.chargeCall()
                return [.i64(s.context.blockHeight)]
            }
        case "block_time":
            return { _, _ in
                let s = try slot.session()
                try s.chargeCall()
                return [.i64(UInt64(bitPattern: s.context.blockTime))]
            }
        case "emit":
            return { _, args in
                let s = try slot.session()
                try s.emit(name: try s.read(u32(args, 0), u32(args, 1)), data: try s.read(u32(args, 2), u32(args, 3)))
                return []
            }
        case "set_result":
            return { _, args in
                let s = try slot.session()
                try s.setResult(try s.read(u32(args, 0), u32(args, 1)))
                return []
            }
        case "fail":
            return { _, args in
                let s = try slot.session()
                let code = try s.read(u32(args, 0), min(u32(args, 1), 64 + 1))
                let message = try s.read(u32(args, 2), min(u32(args, 3), UInt32(4 * s.limits.maxErrorMessageBytes)))
                throw s.contractFailure(code: code, message: message)
            }
        case "query":
            return { _, args in
                let s = try slot.session()
                let answer = try s.nativeQuery(
                    contract: try s.read(u32(args, 0), u32(args, 1)), method: try s.read(u32(args, 2), u32(args, 3)),
                    args: try s.read(u32(args, 4), u32(args, 5)))
                return [try s.hand(answer)]
            }
        case "debug_log":
            return { _, args in
                let s = try slot.session()
                let length = min(u32(args, 1), 4096)
                try s.chargeCall(bytes: Int(length))
                s.logs.append(String(decoding: try s.read(u32(args, 0), length), as: UTF8.self))
                return []
            }
        default: return nil
        }
    }

    static func contextString(_ slot: SessionSlot, _ field: @escaping (WasmCallContext) -> String) -> Function.Implementation {
        { _, _ in
            let s = try slot.session()
            let bytes = Array(field(s.context).utf8)
            try s.chargeCall(bytes: bytes.count)
            return [try s.hand(bytes)]
        }
    }
}

/// Where an instance's host functions find the call they serve: set for the length of a call, so
/// that an instance reused for the next call serves that one.
final class SessionSlot {
    var current: CallSession?

    func session() throws -> CallSession {
        guard let current else {
            throw CallAbort.failed(ChainError(.trap, "a host function was called outside a call"))
        }
        return current
    }
}
