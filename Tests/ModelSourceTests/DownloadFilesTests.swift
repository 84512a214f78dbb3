import Crypto
import Foundation
import Testing
@testable import ModelSource

/// The partial file, the contiguous-prefix bookkeeping and the two ways of hashing.
@Suite struct DownloadFilesTests {
    static func bytes(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    @Test("parts written out of order, with resumed tails, hash like the whole")
    func prefixHashing() async throws {
        let dir = try TemporaryDirectory()
        let data = Self.bytes(10 * 1000 + 3)
        let file = try PartialFile(path: "\(dir.path)/.x.part", size: Int64(data.count))
        let plan = PartPlan(objectSize: Int64(data.count), partSize: 1000)
        let progress = DownloadProgress(plan: plan)
        let hashing = Task { try await PrefixHasher(file: file, progress: progress).run() }

        // Last part first, then the rest in two halves each, as a resumed part would arrive.
        for part in plan.parts.reversed() {
            let half = part.length / 2
            for (from, to) in [(part.start, part.start + half), (part.start + half, part.end + 1)] {
                try data[Int(from)..<Int(to)].withUnsafeBytes { try file.write($0, at: from) }
                progress.record(part: part.index, bytes: to - from)
                if part.index > 0 { #expect(progress.contiguousPrefix == 0) }
            }
        }
        #expect(progress.contiguousPrefix == Int64(data.count))
        #expect(progress.bytesReceived == Int64(data.count))
        progress.finish()
        let digest = try await hashing.value
        let expected = SigV4Signer.hex(SHA256.hash(data: data))
        #expect(digest == expected)
        #expect(try FileHasher.sha256(of: file) == expected)
        file.discard()
        #expect(dir.entries.isEmpty)
    }

    @Test("a download that stops short gives no digest")
    func shortDownload() async throws {
        let dir = try TemporaryDirectory()
        let file = try PartialFile(path: "\(dir.path)/.x.part", size: 2000)
        let progress = DownloadProgress(plan: PartPlan(objectSize: 2000, partSize: 1000))
        let hashing = Task { try await PrefixHasher(file: file, progress: progress).run() }
        progress.record(part: 0, bytes: 1000)
        progress.finish()
        #expect(try await hashing.value == nil)
        file.discard()
    }

    @Test("an empty object hashes to the empty SHA-256")
    func emptyObject() async throws {
        let dir = try TemporaryDirectory()
        let file = try PartialFile(path: "\(dir.path)/.e.part", size: 0)
        let progress = DownloadProgress(plan: PartPlan(objectSize: 0, partSize: 1000))
        progress.finish()
        #expect(try await PrefixHasher(file: file, progress: progress).run() == SigV4Signer.emptyPayloadSHA256)
        try file.commit(to: "\(dir.path)/e")
        #expect(dir.entries == ["e"])
    }

    @Test("writes past the reserved size are refused, not performed")
    func boundedWrites() throws {
        let dir = try TemporaryDirectory()
        let file = try PartialFile(path: "\(dir.path)/.x.part", size: 10)
        #expect(throws: ModelSourceError.self) {
            try [UInt8](repeating: 1, count: 4).withUnsafeBytes { try file.write($0, at: 8) }
        }
        file.discard()
    }

    @Test("stale partial files of dead processes are removed, live ones kept")
    func stalePartials() throws {
        let dir = try TemporaryDirectory()
        dir.write(".m.gguf.part-999999999-ab", [1])  // above any pid_max
        dir.write(".m.gguf.part-\(getpid())-cd", [1])
        dir.write("other", [1])
        LocalPaths.removeStalePartials(directory: dir.path, name: "m.gguf")
        #expect(dir.entries == [".m.gguf.part-\(getpid())-cd", "other"])
    }
}
