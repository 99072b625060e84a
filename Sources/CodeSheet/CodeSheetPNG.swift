import ChainCore
import Foundation

extension CodeSheet {
    /// Writes one PNG per label into `directory` (created if missing) and returns the files in label order.
    ///
    /// Files are named `<number>-<short code>.png`, the number 1-based and zero-padded so the
    /// names sort like the labels; characters other than ASCII letters, digits, `-` and `_` in the
    /// short code become `_`.
    @discardableResult
    public func writePNGs(to directory: URL, scale: Int = 8) throws(ChainError) -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ChainError(.writeFailed, "could not create \(directory.path): \(error)")
        }
        let digits = String(labels.count).count
        var files: [URL] = []
        for (index, label) in labels.enumerated() {
            let code = try encode(label, number: index + 1)
            let number = String(index + 1)
            let name = String(repeating: "0", count: digits - number.count) + number + "-" + Self.fileSafe(label.shortCode)
            let file = directory.appendingPathComponent(name + ".png")
            try code.writePNG(to: file, scale: scale)
            files.append(file)
        }
        return files
    }

    /// `text` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
    static func fileSafe(_ text: String) -> String {
        String(
            text.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "-", "_": Character(scalar)
                default: "_"
                }
            })
    }
}
