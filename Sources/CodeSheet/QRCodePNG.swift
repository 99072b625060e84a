import ChainCore
import Foundation

extension QRCode {
    /// A 1-bit greyscale PNG of the symbol, `scale` pixels per module, with a light quiet zone.
    public func png(scale: Int = 8, quietZone: Int = 4) throws(ChainError) -> [UInt8] {
        try Self.checkRenderSize(moduleSize: scale, quietZone: quietZone)
        let side = (size + 2 * quietZone) * scale
        return PNGEncoder.blackAndWhite(width: side, height: side) { x, y in
            isDark(x: x / scale - quietZone, y: y / scale - quietZone)
        }
    }

    /// Writes the PNG of ``png(scale:quietZone:)`` to `url`, replacing any file there.
    public func writePNG(to url: URL, scale: Int = 8, quietZone: Int = 4) throws(ChainError) {
        let bytes = try png(scale: scale, quietZone: quietZone)
        do {
            try Data(bytes).write(to: url, options: .atomic)
        } catch {
            throw ChainError(.writeFailed, "could not write \(url.path): \(error)")
        }
    }
}
