import Foundation
import ModelFiles

/// The note left beside a verified download (`.<name>.verified`, JSON {sha256, etag, bytes}),
/// so that a warm Lambda sandbox or a second fetch reuses the file without downloading
/// or re-hashing it. The file counts as reusable only when the marker's SHA-256 and
/// size match what S3 says now and the file on disk has that size.
struct VerifiedMarker: Codable, Equatable, Sendable {
    var sha256: String
    var etag: String
    var bytes: Int64

    static func path(forFile file: String) -> String {
        let (directory, name) = LocalPaths.split(file)
        return "\(directory)/.\(name).verified"
    }

    /// nil when the marker is missing, unreadable or not a marker (a corrupt one just means "download").
    static func read(forFile file: String) -> VerifiedMarker? {
        guard let data = FileManager.default.contents(atPath: path(forFile: file)), data.count <= 64 << 10 else { return nil }
        return try? JSONDecoder().decode(VerifiedMarker.self, from: data)
    }

    /// True when `file` holds exactly the object with this SHA-256 and size.
    static func canReuse(file: String, sha256: String, bytes: Int64) -> Bool {
        guard let marker = read(forFile: file) else { return false }
        guard marker.sha256.lowercased() == sha256.lowercased(), marker.bytes == bytes else { return false }
        var info = stat()
        guard stat(file, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, Int64(info.st_size) == bytes else { return false }
        return true
    }

    /// Written beside `file` through a temporary name and a rename, so a crash never leaves half a marker.
    func save(besideFile file: String) throws(ModelSourceError) {
        let target = Self.path(forFile: file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw .fileSystem(path: target, operation: "encode", reason: "\(error)")
        }
        let (directory, name) = LocalPaths.split(file)
        let temporary = TemporaryFileName.make(directory: directory, name: "\(name).verified", kind: "tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileSystem(path: temporary, operation: "create", reason: LocalPaths.errnoText()) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == data.count, synced else {
            let reason = LocalPaths.errnoText()
            unlink(temporary)
            throw .fileSystem(path: temporary, operation: "write", reason: reason)
        }
        guard rename(temporary, target) == 0 else {
            let reason = LocalPaths.errnoText()
            unlink(temporary)
            throw .fileSystem(path: target, operation: "rename", reason: reason)
        }
    }

    static func remove(forFile file: String) {
        unlink(path(forFile: file))
    }
}
