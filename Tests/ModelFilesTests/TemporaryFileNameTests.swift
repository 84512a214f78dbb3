import Foundation
import Testing
@testable import ModelFiles

@Suite("Temporary files beside outputs")
struct TemporaryFileNameTests {
    private func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "tmpname-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The pid of a process that has exited (and been reaped).
    private func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    @Test("a name carries this process's pid and differs between calls")
    func namesCarryPID() throws {
        let a = TemporaryFileName.make(directory: "/d", name: "m.gguf", kind: "tmp")
        let b = TemporaryFileName.make(directory: "/d", name: "m.gguf", kind: "tmp")
        #expect(a.hasPrefix("/d/.m.gguf.tmp-\(getpid())-"))
        #expect(a != b)
    }

    @Test("leftovers of a dead process are removed; a live process's and other names are kept")
    func removesOnlyDeadLeftovers() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = try deadPID()
        let names = [
            ".m.gguf.tmp-\(dead)-1a2b",  // killed writer: removed
            ".m.gguf.tmp-1-ff",  // pid 1 is alive: kept
            ".m.gguf.tmp-\(getpid())-0",  // this process: kept
            ".other.gguf.tmp-\(dead)-1",  // another output: kept
            ".m.gguf.part-\(dead)-1",  // another kind: kept
            ".m.gguf.tmp-notapid",  // not ours: kept
            "m.gguf",
        ]
        for name in names { _ = FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data("x".utf8)) }
        let removed = TemporaryFileName.removeStale(directory: dir, name: "m.gguf", kind: "tmp")
        #expect(removed == [".m.gguf.tmp-\(dead)-1a2b"])
        let left = try Set(FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == Set(names.dropFirst()))
    }

    @Test("a write after a killed write removes the killed one's temporary file")
    func atomicWriteCleansUpAfterKilledWriter() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stale = "\(dir)/.out.gguf.tmp-\(try deadPID())-7"
        _ = FileManager.default.createFile(atPath: stale, contents: Data(count: 4096))
        try AtomicFileWrite.write(to: "\(dir)/out.gguf") { sink in try sink.write(Array("GGUF".utf8)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.gguf"])
    }
}
