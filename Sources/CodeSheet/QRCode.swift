import CQREncode
import ChainCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A QR Code symbol: the square matrix of dark and light modules that encodes one text.
///
/// The encoding itself is done by libqrencode (Debian package `libqrencode-dev`); this type copies
/// the library's matrix out and frees it, so values are plain, `Sendable` Swift data.
public struct QRCode: Sendable, Hashable {
    /// How much of the symbol may be damaged before it can no longer be read.
    public enum ErrorCorrection: String, Sendable, Hashable, CaseIterable {
        /// About 7 % of the codewords can be restored.
        case low
        /// About 15 % of the codewords can be restored.
        case medium
        /// About 25 % of the codewords can be restored.
        case quartile
        /// About 30 % of the codewords can be restored.
        case high

        /// The most bytes a QR Code at this level can carry in byte mode (version 40).
        public var maximumByteCount: Int {
            switch self {
            case .low: 2953
            case .medium: 2331
            case .quartile: 1663
            case .high: 1273
            }
        }

        var cLevel: QRecLevel {
            switch self {
            case .low: QR_ECLEVEL_L
            case .medium: QR_ECLEVEL_M
            case .quartile: QR_ECLEVEL_Q
            case .high: QR_ECLEVEL_H
            }
        }
    }

    /// The encoded text.
    public let text: String
    /// The error correction level the symbol was built with.
    public let level: ErrorCorrection
    /// The symbol version, 1 to 40; it fixes the side length.
    public let version: Int
    /// Modules per side, without the quiet zone (`17 + 4 × version`).
    public let size: Int
    /// Row-major dark flags, `size × size` of them.
    private let modules: [Bool]

    /// Encodes `text` as UTF-8 bytes in byte mode, choosing the smallest version that fits.
    ///
    /// Throws `qr_text_empty` for an empty text, `qr_text_too_long` for more bytes than the level
    /// can carry, and `qr_encode_failed` when libqrencode itself fails.
    public init(text: String, level: ErrorCorrection = .medium) throws(ChainError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else {
            throw ChainError(.qrTextEmpty, "a QR Code needs at least one byte of text")
        }
        guard bytes.count <= level.maximumByteCount else {
            throw ChainError(
                .qrTextTooLong,
                "\(bytes.count) bytes do not fit a QR Code at level \(level.rawValue) "
                    + "(at most \(level.maximumByteCount))"
            )
        }
        errno = 0
        // Version 0 lets libqrencode pick the smallest version; encodeData takes bytes, not a C
        // string, so the length is explicit and no terminator is needed.
        let result = bytes.withUnsafeBufferPointer { buffer -> UnsafeMutablePointer<QRcode>? in
            guard let base = buffer.baseAddress else { return nil }
            return QRcode_encodeData(Int32(buffer.count), base, 0, level.cLevel)
        }
        guard let code = result else {
            let reason = errno == 0 ? "unknown error" : String(cString: strerror(errno))
            throw ChainError(.qrEncodeFailed, "libqrencode could not encode \(bytes.count) bytes: \(reason)")
        }
        defer { QRcode_free(code) }

        let width = Int(code.pointee.width)
        guard width >= 21, let data = code.pointee.data else {
            throw ChainError(.qrEncodeFailed, "libqrencode returned an empty symbol")
        }
        // Bit 0 of each byte is the module colour; the other bits describe its role.
        let count = width * width
        self.modules = (0..<count).map { data[$0] & 1 == 1 }
        self.text = text
        self.level = level
        self.version = Int(code.pointee.version)
        self.size = width
    }

    /// Whether the module at column `x`, row `y` is dark; coordinates outside the symbol are light.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// Refuses render sizes that make no image or an unreasonably large one.
    static func checkRenderSize(moduleSize: Int, quietZone: Int) throws(ChainError) {
        guard (1...100).contains(moduleSize) else {
            throw ChainError(.qrBadRenderSize, "module size must be 1 to 100 pixels, not \(moduleSize)")
        }
        guard (0...40).contains(quietZone) else {
            throw ChainError(.qrBadRenderSize, "quiet zone must be 0 to 40 modules, not \(quietZone)")
        }
    }
}
