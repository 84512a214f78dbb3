#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers never see it half-written: a temporary file in
/// the same directory, fsync, rename, then fsync of the directory. On any error
/// the temporary file is removed and nothing appears under `path`; temporary files
/// of an earlier writer that was killed are removed first. Shared by every writer of
/// model files (GGUF, safetensors).
enum AtomicFileWrite {
    static func write(to path: String, _ body: (GGUFDataSink) throws -> Void) throws {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        TemporaryFileName.removeStale(directory: directory, name: base, kind: "tmp")
        let temporary = TemporaryFileName.make(directory: directory, name: base, kind: "tmp")

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw GGUFWriterError.io(path: path, message: "cannot create \(temporary): \(errnoText())") }
        var closed = false
        do {
            let sink = GGUFDataSink(fd: fd, path: temporary)
            try body(sink)
            try sink.flush()
            guard fsync(fd) == 0 else { throw GGUFWriterError.io(path: temporary, message: "fsync failed: \(errnoText())") }
            closed = true
            guard close(fd) == 0 else { throw GGUFWriterError.io(path: temporary, message: "close failed: \(errnoText())") }
            guard rename(temporary, path) == 0 else {
                throw GGUFWriterError.io(path: path, message: "rename from \(temporary) failed: \(errnoText())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
        // Make the rename itself durable; best effort, as some filesystems refuse fsync on directories.
        let dirFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_CLOEXEC)
        if dirFD >= 0 {
            _ = fsync(dirFD)
            close(dirFD)
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
