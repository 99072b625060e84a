import ChainCore
import Foundation
import Node
import Storage

/// Backing up a node home while the node runs, and restoring it on a new machine.
///
/// A backup is a directory: the home's files (config, genesis, node key and certificate, salts,
/// TLS files; not the log) as they are, each SQLite database of `data/` as a consistent online
/// copy, and `backup.json` naming every file with its SHA-256 and the chain height it holds. It
/// holds the node's private key: keep it as an org keeps its CA key (offline, encrypted).
public enum NodeBackup {
    /// What a backup holds.
    public struct Manifest: Codable, Sendable, Equatable {
        /// Layout version.
        public var format = 1
        /// The node's id and chain.
        public var nodeId: String
        public var chainId: String
        /// Height of the chain database copy.
        public var height: UInt64
        /// When it was taken, milliseconds since 1970.
        public var createdAt: Int64
        /// Relative path → SHA-256 (hex) of every file besides this manifest.
        public var files: [String: String]
    }

    /// Files of a home left out: the log (large, not state) and SQLite's side files (the copies
    /// are whole databases).
    static func skipped(_ relative: String) -> Bool {
        relative == "node.log" || relative.hasSuffix("-wal") || relative.hasSuffix("-shm") || relative.hasSuffix("-journal")
    }

    /// Copies the node home `home` (a symbolic link to one is followed) into the new directory
    /// `out` (mode 0700); a failed backup leaves no partial directory behind.
    public static func backup(home: URL, to out: URL) throws -> Manifest {
        let fm = FileManager.default
        if fm.fileExists(atPath: out.path), !((try? fm.contentsOfDirectory(atPath: out.path))?.isEmpty ?? true) {
            throw ChainError(.alreadyExists, "\(out.path) exists and is not empty")
        }
        do {
            return try copy(home: home.resolvingSymlinksInPath(), to: out)
        } catch {
            try? fm.removeItem(at: out)
            throw error
        }
    }

    static func copy(home: URL, to out: URL) throws -> Manifest {
        let fm = FileManager.default
        let config = try NodeConfig.load(from: home.appendingPathComponent("config.json"))
        let genesis = try Genesis.load(from: home.appendingPathComponent("genesis.json"))
        try fm.createDirectory(at: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var files: [String: String] = [:]
        var height: UInt64 = 0
        for relative in try regularFiles(under: home) where !skipped(relative) {
            let source = home.appendingPathComponent(relative)
            let target = out.appendingPathComponent(relative)
            try fm.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if relative.hasPrefix("data/"), relative.hasSuffix(".sqlite") {
                try SQLiteSnapshot.copy(from: source.path, to: target.path)
                if relative == "data/chain.sqlite" { height = try SQLiteSnapshot.tipHeight(target.path) }
            } else {
                try fm.copyItem(at: source, to: target)
            }
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)
            files[relative] = try Hash256.sha256(fileAt: target).hex
        }
        guard files["data/chain.sqlite"] != nil else {
            throw ChainError(.storageUnavailable, "\(home.path) holds no chain database (data/chain.sqlite)")
        }
        let manifest = Manifest(
            nodeId: config.nodeId, chainId: genesis.chainId, height: height, createdAt: ChainNode.nowMillis(), files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: out.appendingPathComponent("backup.json"))
        return manifest
    }

    /// Checks a backup against its manifest: every file there, none changed. `malformed` otherwise.
    public static func verify(_ backup: URL) throws -> Manifest {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(
                Manifest.self, from: Data(contentsOf: backup.appendingPathComponent("backup.json")))
        } catch {
            throw ChainError(.malformed, "\(backup.path) is not a node backup (backup.json): \(error)")
        }
        for (relative, hash) in manifest.files.sorted(by: { $0.key < $1.key }) {
            guard !relative.split(separator: "/").contains(".."), !relative.hasPrefix("/") else {
                throw ChainError(.malformed, "backup names a file outside it: \(relative)")
            }
            let url = backup.appendingPathComponent(relative)
            guard let digest = try? Hash256.sha256(fileAt: url) else { throw ChainError(.malformed, "backup lacks \(relative)") }
            guard digest.hex == hash else {
                throw ChainError(.malformed, "\(relative) in the backup does not match its SHA-256 in backup.json")
            }
        }
        for relative in manifest.files.keys where relative.hasSuffix(".sqlite") {
            try SQLiteSnapshot.check(backup.appendingPathComponent(relative).path)
        }
        return manifest
    }

    /// Restores a verified backup into `home` (which must not hold a node yet). `fence` is where
    /// the network's rounds stood (see `VoteFence`): required unless the node is its chain's only
    /// validator, because its lost copy may have voted up to there.
    public static func restore(from backup: URL, to home: URL, fence: VoteFence?) throws -> Manifest {
        let fm = FileManager.default
        let manifest = try verify(backup)
        if fm.fileExists(atPath: home.appendingPathComponent("config.json").path)
            || fm.fileExists(atPath: home.appendingPathComponent("data").path)
        {
            throw ChainError(.alreadyExists, "\(home.path) already holds a node: move it away first")
        }
        // Any node but a chain's only validator may be (or have become, by governance) a
        // validator whose lost copy voted after the backup.
        let genesis = try Genesis.load(from: backup.appendingPathComponent("genesis.json"))
        let alone = genesis.validators.count == 1 && genesis.validators[0].nodeId == manifest.nodeId
        if !alone, fence == nil {
            throw ChainError(
                .badArgs,
                "give --peer with the API of running validators, so that \(manifest.nodeId) stays out of the rounds its lost copy may have voted in"
            )
        }
        try fm.createDirectory(at: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for relative in manifest.files.keys.sorted() {
            let target = home.appendingPathComponent(relative)
            try fm.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.copyItem(at: backup.appendingPathComponent(relative), to: target)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)
        }
        if let fence { try fence.write(home: home) }
        return manifest
    }

    /// Relative paths of the regular files under `root`, sorted.
    static func regularFiles(under root: URL) throws -> [String] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else {
            throw ChainError(.badConfig, "cannot read \(root.path)")
        }
        var out: [String] = []
        while let relative = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: root.appendingPathComponent(relative).path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                out.append(relative)
            }
        }
        return out.sorted()
    }
}
