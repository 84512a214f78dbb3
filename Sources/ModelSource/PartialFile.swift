import Foundation

/// The download in progress: a temporary file beside the final name, written part
/// by part at each part's offset (pwrite, safe from many tasks at once), read back
/// for hashing, then either renamed into place or deleted. Nothing else ever
/// appears under the final name.
final class PartialFile: Sendable {
    let path: String
    let size: Int64
    private let fd: Int32

    /// Creates the file and reserves `size` bytes, so a full disk shows up now rather than mid-transfer.
    init(path: String, size: Int64) throws(ModelSourceError) {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileSystem(path: path, operation: "create", reason: LocalPaths.errnoText()) }
        if size > 0, let failure = Self.reserve(fd: fd, size: size) {
            close(fd)
            unlink(path)
            throw .fileSystem(path: path, operation: "reserve \(size) bytes for", reason: LocalPaths.errnoText(failure))
        }
        self.path = path
        self.size = size
        self.fd = fd
    }

    /// nil on success, else the errno. Where the file system cannot preallocate, a file of
    /// the right length (sparse) still works; it just finds a full disk later.
    private static func reserve(fd: Int32, size: Int64) -> Int32? {
        #if os(Linux)
        let result = posix_fallocate(fd, 0, off_t(size))
        if result == 0 { return nil }
        if result != EINVAL && result != EOPNOTSUPP { return result }
        #endif
        return ftruncate(fd, off_t(size)) == 0 ? nil : errno
    }

    /// Writes all of `bytes` at `offset`, retrying short writes and EINTR.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(ModelSourceError) {
        guard offset >= 0, offset <= size, Int64(bytes.count) <= size - offset else {
            throw .fileSystem(path: path, operation: "write", reason: "\(bytes.count) bytes at offset \(offset) do not fit in \(size)")
        }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(path: path, operation: "write", reason: LocalPaths.errnoText())
            }
            done += n
        }
    }

    /// Reads exactly `count` bytes at `offset` into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer, count: Int, at offset: Int64) throws(ModelSourceError) {
        precondition(count <= buffer.count)
        var done = 0
        while done < count {
            let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + Int64(done)))
            if n < 0 {
                if errno == EINTR { continue }
                throw .fileSystem(path: path, operation: "read", reason: LocalPaths.errnoText())
            }
            guard n > 0 else { throw .fileSystem(path: path, operation: "read", reason: "unexpected end of file at \(offset + Int64(done))") }
            done += n
        }
    }

    func sync() throws(ModelSourceError) {
        guard fsync(fd) == 0 else { throw .fileSystem(path: path, operation: "fsync", reason: LocalPaths.errnoText()) }
    }

    /// Closes and renames into place; the caller has verified the contents.
    func commit(to finalPath: String) throws(ModelSourceError) {
        try sync()
        close(fd)
        guard rename(path, finalPath) == 0 else {
            let reason = LocalPaths.errnoText()
            unlink(path)
            throw .fileSystem(path: finalPath, operation: "rename \(path) to", reason: reason)
        }
    }

    /// Closes and deletes; for every failure path.
    func discard() {
        close(fd)
        unlink(path)
    }
}
