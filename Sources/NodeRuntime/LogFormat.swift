import ChainCore
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a node writes its log to standard error (`--log-format`, config `logFormat`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's readable lines.
    case text
    /// One JSON object per line: `time` (RFC 3339, UTC, milliseconds), `level`, `logger`,
    /// `message`, `metadata` (an object; a request's lines carry its `request_id`), `source`.
    case json

    /// The format named `name`; `bad_config` for any other name.
    public static func named(_ name: String) throws(ChainError) -> LogFormat {
        guard let f = LogFormat(rawValue: name) else {
            throw ChainError(.badConfig, "log format \"\(name.prefix(32))\" is neither text nor json")
        }
        return f
    }

    /// Sets up swift-log for the process in this format at `level`.
    public func bootstrap(level: Logger.Level) {
        switch self {
        case .text:
            LoggingSystem.bootstrap { label in
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var h = JSONLogHandler(label: label, write: JSONLogHandler.standardError)
                h.logLevel = level
                return h
            }
        }
    }
}

/// A swift-log handler writing one JSON object per line (see `LogFormat.json`).
public struct JSONLogHandler: LogHandler {
    /// The logger's label.
    public let label: String
    /// Where each line (with its newline) goes, whole.
    let write: @Sendable ([UInt8]) -> Void
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// A handler for `label` writing its lines with `write`.
    public init(label: String, write: @escaping @Sendable ([UInt8]) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    private static let lock = Mutex<Void>(())

    /// Writes to standard error in one `write`, lines never interleaved.
    public static let standardError: @Sendable ([UInt8]) -> Void = { bytes in
        JSONLogHandler.lock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    #if canImport(Glibc)
                        let n = Glibc.write(STDERR_FILENO, raw.baseAddress! + offset, raw.count - offset)
                    #else
                        let n = Darwin.write(STDERR_FILENO, raw.baseAddress! + offset, raw.count - offset)
                    #endif
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.line(
            time: Date(), level: event.level, label: label, message: "\(event.message)", metadata: merged,
            source: event.source)
        write(line)
    }

    /// The JSON line of one entry, newline included.
    static func line(
        time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, source: String
    ) -> [UInt8] {
        let object = JSONValue.object([
            "time": .string(timestamp(time)), "level": .string(level.rawValue), "logger": .string(label),
            "message": .string(message), "metadata": .object(metadata.mapValues(json)), "source": .string(source),
        ])
        return object.canonicalBytes + [0x0A]
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let s): .string(s)
        case .stringConvertible(let c): .string(c.description)
        case .array(let a): .array(a.map(json))
        case .dictionary(let d): .object(d.mapValues(json))
        }
    }

    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }
}
