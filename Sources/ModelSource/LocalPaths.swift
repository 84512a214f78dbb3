import Foundation
import ModelFiles

/// Names of the files a fetch creates in its directory, and small POSIX helpers:
/// `NAME` (the verified model), `.NAME.verified` (its marker), `.NAME.part-PID-RANDOM`
/// (the download in progress), so that stale leftovers of a crashed process can be
/// found and removed.
enum LocalPaths {
    /// The key's last path component; "." and ".." would escape the directory, so they are refused.
    static func fileName(forKey key: String, bucket: String) throws(ModelSourceError) -> String {
        let name = key.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? ""
        guard !name.isEmpty, name != ".", name != "..", name.utf8.count <= 255 else {
            throw .invalidLocation("s3://\(bucket)/\(key)", reason: "the key's last component '\(name)' is not a usable file name")
        }
        return name
    }

    /// `.NAME.part-PID-RANDOM`, found and removed by `removeStalePartials` once its process is gone.
    static func partialPath(directory: String, name: String) -> String {
        TemporaryFileName.make(directory: directory, name: name, kind: "part")
    }

    /// A crashed init must not leave hundreds of MB in a sandbox's /tmp that the next init then lacks.
    static func removeStalePartials(directory: String, name: String) {
        TemporaryFileName.removeStale(directory: directory, name: name, kind: "part")
        TemporaryFileName.removeStale(directory: directory, name: "\(name).verified", kind: "tmp")
    }

    static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    /// Makes a rename durable; some file systems refuse fsync on a directory, which is harmless here.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
}
