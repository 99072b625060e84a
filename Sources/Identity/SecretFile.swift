import ChainCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files that hold secrets (private keys, salts, sealed data): created with mode 0600 from the
/// first byte (never written world-readable and chmod-ed after), written whole to a temporary
/// file, flushed and renamed over the old one, so a crash leaves the old or the new content.
public enum SecretFile {
    /// Writes `bytes` to `url` atomically, readable by the owner only.
    public static func write(_ bytes: [UInt8], to url: URL) throws(ChainError) {
        let dir = url.deletingLastPathComponent()
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(UInt64.random(in: 0...UInt64.max)).tmp")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ChainError(.writeFailed, "cannot create \(temp.path): errno \(errno)") }
        var ok = bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp.path, url.path) == 0 else {
            let e = errno
            unlink(temp.path)
            throw ChainError(.writeFailed, "cannot write \(url.path): errno \(e)")
        }
        let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Writes `text` (UTF-8) to `url` as `write(_:to:)` does.
    public static func write(_ text: String, to url: URL) throws(ChainError) {
        try write(Array(text.utf8), to: url)
    }

    /// A random key of `byteCount` bytes kept in `url` as hex text (one line), made on first use.
    /// A file of exactly `byteCount` raw bytes (the format of older nodes) is read as such.
    public static func loadOrCreateKey(_ url: URL, byteCount: Int = 32) throws(ChainError) -> [UInt8] {
        if let data = try? Data(contentsOf: url) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if let bytes = Hex.decode(text), bytes.count == byteCount { return bytes }
            if data.count == byteCount { return Array(data) }
            throw ChainError(.badConfig, "\(url.path) must hold \(byteCount * 2) hex characters")
        }
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &rng) }
        try write(Hex.encode(bytes) + "\n", to: url)
        return bytes
    }

    /// Creates `url` and its parents with mode 0700 when missing (a node's data directory).
    public static func createPrivateDirectory(_ url: URL) throws(ChainError) {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ChainError(.writeFailed, "could not create \(url.path): \(error)")
        }
    }
}
