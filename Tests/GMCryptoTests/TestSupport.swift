import Foundation

/// Hex helpers and paths shared by the tests.
enum TestHex {
    static func decode(_ text: String) -> [UInt8] {
        let clean = text.filter { !$0.isWhitespace }
        var out: [UInt8] = []
        var index = clean.startIndex
        while index < clean.endIndex {
            let next = clean.index(index, offsetBy: 2)
            out.append(UInt8(clean[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static func encode(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// Locations in the package checkout.
enum PackagePaths {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/Fixtures")
    static let javaScript = root.appendingPathComponent("js")
    static let python = root.appendingPathComponent("interop/python")
}

/// Runs a program and collects its output: the cross-checks drive real processes.
struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

enum Run {
    static func command(_ arguments: [String], stdin: String? = nil, in directory: URL? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("smcrypto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Minimal DER for hand-made signatures in hostile-input tests.
enum DER {
    static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var body = Array(magnitude.drop(while: { $0 == 0 }))
        if body.isEmpty { body = [0] }
        if body[0] & 0x80 != 0 { body.insert(0, at: 0) }
        return [0x02, UInt8(body.count)] + body
    }

    static func sequence(_ parts: [UInt8]) -> [UInt8] { [0x30, UInt8(parts.count)] + parts }

    static func signature(r: [UInt8], s: [UInt8]) -> [UInt8] { sequence(integer(r) + integer(s)) }
}
