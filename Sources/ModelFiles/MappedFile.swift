#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be mapped, with the path, so the message is actionable on its own.
public struct MappedFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case notFound
        case isDirectory
        case notRegularFile
        case permissionDenied
        case tooLarge(UInt64)
        /// A system call failed: which one and its errno.
        case system(call: String, errno: Int32)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reasonDescription)" }

    /// The reason alone, for messages that already name the path.
    public var reasonDescription: String {
        switch reason {
        case .notFound: return "no such file"
        case .isDirectory: return "is a directory, expected a file"
        case .notRegularFile: return "not a regular file"
        case .permissionDenied: return "permission denied"
        case .tooLarge(let size): return "\(size) bytes is too large to map"
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}

/// A whole file mapped read-only (PROT_READ, MAP_PRIVATE): weights are read
/// in place, so a loaded model costs its file size in page cache, not a copy.
/// `bytes` stays valid for the life of this object.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    public let bytes: UnsafeRawBufferPointer
    // Immutable after init and never written through, hence safe to share.
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws(MappedFileError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw MappedFileError(path: path, reason: .notFound)
            case EACCES, EPERM: throw MappedFileError(path: path, reason: .permissionDenied)
            case EISDIR: throw MappedFileError(path: path, reason: .isDirectory)
            default: throw MappedFileError(path: path, reason: .system(call: "open", errno: code))
            }
        }
        defer { close(fd) }

        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw MappedFileError(path: path, reason: .system(call: "fstat", errno: errno))
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR { throw MappedFileError(path: path, reason: .isDirectory) }
        guard kind == S_IFREG else { throw MappedFileError(path: path, reason: .notRegularFile) }
        guard info.st_size >= 0, UInt64(info.st_size) <= UInt64(Int.max / 2) else {
            throw MappedFileError(path: path, reason: .tooLarge(UInt64(truncatingIfNeeded: info.st_size)))
        }
        let size = Int(info.st_size)

        // mmap rejects a length of zero; an empty file is simply no bytes.
        guard size > 0 else {
            count = 0
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw MappedFileError(path: path, reason: .system(call: "mmap", errno: errno))
        }
        count = size
        base = mapped
        bytes = UnsafeRawBufferPointer(start: mapped, count: size)
    }

    deinit {
        if let base { munmap(base, count) }
    }
}
