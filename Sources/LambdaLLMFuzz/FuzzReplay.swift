#if !FUZZING
import Foundation

/// The plain build's `main`: replays saved inputs (the committed seeds and every
/// crash reproducer) through a target without libFuzzer, so CI re-checks them on
/// each run. A regression crashes this process, which fails the run.
@main
enum FuzzReplay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count >= 2, let type = FuzzTargets.named(arguments[0]) else {
            let list = FuzzTargets.all.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
            fail("usage: lambda-llm-fuzz TARGET FILE|DIRECTORY...\ntargets:\n\(list)")
        }
        let target: any FuzzTarget
        do {
            target = try type.init()
        } catch {
            fail("cannot set up fuzz target \(type.name): \(error)")
        }
        var count = 0
        for path in arguments.dropFirst() {
            for file in inputs(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
                target.run([UInt8](data))
                count += 1
            }
        }
        print("\(type.name): replayed \(count) inputs without a crash")
    }

    /// A file, or the regular files of a directory (not recursive), in name order.
    private static func inputs(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("no such file or directory: \(path)") }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { (path as NSString).appendingPathComponent($0) }.filter {
            var isDir: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && !isDir.boolValue
        }
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
#endif
