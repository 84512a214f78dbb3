import Foundation
import ModelFiles
import Testing
import TestSupport

@Suite("Memory-mapped files")
struct MappedFileTests {
    @Test("a missing file is a typed not-found error, for MappedFile and GGUFFile")
    func missing() {
        let path = "/nonexistent-\(UUID().uuidString)/model.gguf"
        #expect(throws: MappedFileError(path: path, reason: .notFound)) { try MappedFile(path: path) }
        #expect(throws: GGUFError(file: path, problem: .io(path: path, message: "no such file"))) { try GGUFFile(path: path) }
    }

    @Test("a directory is a typed is-a-directory error")
    func directory() throws {
        let directory = try GGUFTestFiles.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: MappedFileError(path: directory, reason: .isDirectory)) { try MappedFile(path: directory) }
        do {
            _ = try GGUFFile(path: directory)
            Issue.record("a directory loaded as GGUF")
        } catch {
            #expect(error.description == "\(directory): cannot read: is a directory, expected a file")
        }
    }

    @Test("an empty file maps to zero bytes, and as GGUF reports truncation")
    func empty() throws {
        let path = try GGUFTestFiles.temporaryFile([], name: "empty.gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try MappedFile(path: path)
        #expect(mapped.count == 0)
        #expect(mapped.bytes.isEmpty)
        #expect(throws: GGUFError(file: path, problem: .truncated(what: "GGUF magic", offset: 0, needed: 4, fileSize: 0))) {
            try GGUFFile(path: path)
        }
    }

    @Test("a mapped file exposes exactly the file's bytes")
    func contents() throws {
        let bytes: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = try GGUFTestFiles.temporaryFile(bytes, name: "blob.bin")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try MappedFile(path: path)
        #expect(mapped.count == bytes.count)
        #expect(Array(mapped.bytes) == bytes)
    }
}
