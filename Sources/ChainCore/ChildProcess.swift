import Foundation

/// A command run to completion, its standard output and error captured together.
public enum ChildProcess {
    /// Runs `executable arguments…` (in `directory` if given), blocking until it exits; its exit
    /// status and combined output. Blocks its thread: from async code call it through `OffPool`.
    public static func run(_ executable: URL, _ arguments: [String], in directory: URL? = nil) throws -> (
        status: Int32, output: Data
    ) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
