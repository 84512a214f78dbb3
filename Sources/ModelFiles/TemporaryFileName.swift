#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Names of the temporary files written beside a final file, `.NAME.KIND-PID-HEX`,
/// and the clean-up of those a killed process left: a SIGKILLed convert or download
/// must not leave hundreds of MB behind (in Lambda's /tmp, space the next init lacks).
/// The pid finds leftovers of dead processes; the random part keeps two writers of
/// one process apart.
public enum TemporaryFileName {
    public static func make(directory: String, name: String, kind: String) -> String {
        "\(directory)/.\(name).\(kind)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Deletes `.NAME.KIND-PID-*` files in `directory` whose process is gone; returns their names.
    @discardableResult
    public static func removeStale(directory: String, name: String, kind: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let prefix = ".\(name).\(kind)-"
        var removed: [String] = []
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let pid = Int32(rest.prefix(while: { $0 != "-" })), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == -1 && errno == ESRCH, unlink("\(directory)/\(entry)") == 0 {
                removed.append(entry)
            }
        }
        return removed
    }
}
