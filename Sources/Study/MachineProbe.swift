import Foundation

/// Describes the machine a study ran on, for the report: numbers from another CPU
/// are not comparable, so every report says where they came from.
public enum MachineProbe {
    public static func describe(kernelISA: String, executable: String) -> MachineDescription {
        let info = ProcessInfo.processInfo
        var system = utsname()
        uname(&system)
        let machine = withUnsafeBytes(of: &system.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let release = withUnsafeBytes(of: &system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineDescription(
            cpuModel: cpuModel() ?? machine, cores: info.activeProcessorCount, memoryBytes: Int64(info.physicalMemory),
            operatingSystem: "\(osName() ?? info.operatingSystemVersionString), kernel \(release)",
            architecture: machine, kernelISA: kernelISA, commit: commit(near: executable)
        )
    }

    static func cpuModel() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    static func osName() -> String? {
        guard let text = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// The checkout the binary was built from (it lives under .build/ of a clone), if any.
    static func commit(near executable: String) -> String? {
        let directory = (executable as NSString).deletingLastPathComponent
        let git = ChildProcess(executable: "/usr/bin/env", arguments: ["git", "-C", directory, "rev-parse", "--short", "HEAD"])
        guard let outcome = try? git.launch(), outcome.exitCode == 0 else { return nil }
        let text = String(decoding: outcome.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
