import Foundation
import Testing
@testable import ModelSource

@Suite struct VerifiedMarkerTests {
    static let sha = String(repeating: "ab", count: 32)

    @Test("a file with a matching marker is reused")
    func reuse() throws {
        let dir = try TemporaryDirectory()
        dir.write("m.gguf", Array(repeating: 7, count: 100))
        try VerifiedMarker(sha256: Self.sha, etag: "\"e1\"", bytes: 100).save(besideFile: "\(dir.path)/m.gguf")
        #expect(dir.entries == [".m.gguf.verified", "m.gguf"])
        #expect(VerifiedMarker.canReuse(file: "\(dir.path)/m.gguf", sha256: Self.sha.uppercased(), bytes: 100))
        #expect(VerifiedMarker.read(forFile: "\(dir.path)/m.gguf") == VerifiedMarker(sha256: Self.sha, etag: "\"e1\"", bytes: 100))
    }

    @Test("another sha256, another size, a changed file or no file means download again")
    func noReuse() throws {
        let dir = try TemporaryDirectory()
        let file = "\(dir.path)/m.gguf"
        dir.write("m.gguf", Array(repeating: 7, count: 100))
        try VerifiedMarker(sha256: Self.sha, etag: "\"e1\"", bytes: 100).save(besideFile: file)
        #expect(!VerifiedMarker.canReuse(file: file, sha256: String(repeating: "cd", count: 32), bytes: 100))
        #expect(!VerifiedMarker.canReuse(file: file, sha256: Self.sha, bytes: 101))
        dir.write("m.gguf", Array(repeating: 7, count: 99))  // truncated after it was verified
        #expect(!VerifiedMarker.canReuse(file: file, sha256: Self.sha, bytes: 100))
        try FileManager.default.removeItem(atPath: file)
        #expect(!VerifiedMarker.canReuse(file: file, sha256: Self.sha, bytes: 100))
    }

    @Test("a file without a marker, or with a corrupt one, is not reused")
    func missingOrCorruptMarker() throws {
        let dir = try TemporaryDirectory()
        let file = "\(dir.path)/m.gguf"
        dir.write("m.gguf", Array(repeating: 7, count: 100))
        #expect(!VerifiedMarker.canReuse(file: file, sha256: Self.sha, bytes: 100))
        dir.write(".m.gguf.verified", Array("{not json".utf8))
        #expect(!VerifiedMarker.canReuse(file: file, sha256: Self.sha, bytes: 100))
    }

    @Test("removing a stale copy takes the marker with it")
    func removeStale() throws {
        let dir = try TemporaryDirectory()
        let file = "\(dir.path)/m.gguf"
        dir.write("m.gguf", [1, 2, 3])
        try VerifiedMarker(sha256: Self.sha, etag: "e", bytes: 3).save(besideFile: file)
        try S3ModelDownloader.removeStale(file)
        #expect(dir.entries.isEmpty)
        try S3ModelDownloader.removeStale(file)  // nothing there is fine too
    }
}
