import Foundation

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

    /// `.NAME.part-PID-RANDOM`: the pid finds leftovers of dead processes, the random part keeps
    /// two fetches of one process apart.
    static func partialPath(directory: String, name: String) -> String {
        "\(directory)/.\(name).part-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Deletes `.NAME.part-PID-RANDOM` files whose process is gone: a crashed init must not leave
    /// hundreds of MB in a sandbox's /tmp that the next init then lacks.
    static func removeStalePartials(directory: String, name: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        let prefix = ".\(name).part-"
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix(while: { $0 != "-" })), pid > 0 else { continue }
            if pid == getpid() { continue }
            if kill(pid, 0) == -1 && errno == ESRCH {
                unlink("\(directory)/\(entry)")
            }
        }
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
