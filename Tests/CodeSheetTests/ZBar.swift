import Foundation

/// Runs `zbarimg`, the ZBar bar code reader (Debian package `zbar-tools`), on image files.
enum ZBar {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "zbarimg is not installed: these tests decode real images with it; "
                + "run scripts/install-deps (apt-get install zbar-tools)"
        }
    }

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// `zbarimg` from `PATH`, or nil.
    static var executable: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("zbarimg")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// The text of the one QR Code in the image at `url`, as `zbarimg --raw -q` prints it.
    static func decode(_ url: URL) throws -> String {
        guard let zbarimg = executable else { throw Missing() }
        let process = Process()
        process.executableURL = zbarimg
        process.arguments = ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", url.path]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "zbarimg exited with \(process.terminationStatus) on \(url.path): \(errorText)")
        }
        var text = String(decoding: data, as: UTF8.self)
        // --raw ends each symbol's text with a newline.
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
