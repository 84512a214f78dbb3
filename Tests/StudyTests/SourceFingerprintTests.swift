import Foundation
import Study
import Testing

@Suite struct SourceFingerprintTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fingerprint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("the same files give the same key, and changing a byte at the end changes it")
    func keyFollowsContent() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("model.gguf")
        var bytes = [UInt8](repeating: 7, count: 300_000)
        try Data(bytes).write(to: file)
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: file.path)
        let first = SourceFingerprint.key(of: file.path)
        #expect(first.count == 16)
        #expect(SourceFingerprint.key(of: file.path) == first)
        bytes[bytes.count - 1] = 8
        try Data(bytes).write(to: file)
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: file.path)
        #expect(SourceFingerprint.key(of: file.path) != first)
    }

    @Test("a directory's key changes when a file is added")
    func directoryKeyCoversEveryFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        let before = SourceFingerprint.key(of: dir.path)
        try Data("x".utf8).write(to: dir.appendingPathComponent("model.safetensors"))
        #expect(SourceFingerprint.key(of: dir.path) != before)
    }
}
