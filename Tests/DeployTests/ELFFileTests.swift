import Deploy
import Foundation
import TestSupport
import Testing

@Suite struct ELFFileTests {
    /// The test process itself: a real dynamically linked executable from this toolchain.
    static let runningBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

    @Test("the running test binary reads as an x86_64 or arm64 ELF needing libc and GLIBC_ versions")
    func runningBinary() throws {
        let elf = try ELFFile.read(path: Self.runningBinary)
        #if arch(x86_64)
        #expect(elf.machine == .x86_64)
        #elseif arch(arm64)
        #expect(elf.machine == .aarch64)
        #endif
        #expect(elf.interpreter?.contains("ld-linux") == true)
        #expect(elf.neededLibraries.contains("libc.so.6"))
        let glibc = VersionNeedCheck(elf: elf, family: .glibc())
        #expect(!glibc.required.isEmpty)
        #expect(glibc.required.allSatisfy { $0.components.first == 2 })
        // Symbols that need some GLIBC_ version are found, and each names a library.
        #expect(elf.versionedImports.contains { $0.version.hasPrefix("GLIBC_") && !$0.symbol.isEmpty })
        #expect(elf.versionNeeds.contains { $0.file.hasPrefix("libc.so") })
        // Its loadable segments end inside the file, before the symbol tables.
        let size = try FileManager.default.attributesOfItem(atPath: Self.runningBinary)[.size] as! NSNumber
        #expect(elf.loadedBytes > 0 && elf.loadedBytes < size.int64Value)
        #expect(elf.fileBytes == size.int64Value)
    }

    @Test("the loaded size is where the last PT_LOAD segment ends; one past the end of the file is refused")
    func loadedBytes() throws {
        var image = ELFTestImage()
        image.padding = 4096
        image.loadSegment = (offset: 0, size: 300)
        #expect(try ELFFile(bytes: image.bytes(), file: "x").loadedBytes == 300)
        #expect(try ELFFile(bytes: image.bytes(), file: "x").fileBytes == Int64(image.bytes().count))
        #expect(try ELFFile(bytes: ELFTestImage().bytes(), file: "x").loadedBytes == 0)
        image.loadSegment = (offset: 64, size: 1 << 30)
        do {
            _ = try ELFFile(bytes: image.bytes(), file: "x")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description.contains("a loadable segment (PT_LOAD)"), "\(error)")
        }
    }

    @Test("the stripped size counts for a binary with the Swift runtime linked in, not for one needing it shared")
    func strippedBytes() throws {
        var image = ELFTestImage()
        image.loadSegment = (offset: 0, size: 300)
        #expect(RuntimeBinaryCheck.strippedBytes(of: try ELFFile(bytes: image.bytes(), file: "x")) == 300)
        image.needed = ["libswiftCore.so", "libc.so.6"]
        #expect(RuntimeBinaryCheck.strippedBytes(of: try ELFFile(bytes: image.bytes(), file: "x")) == nil)
        #expect(RuntimeBinaryCheck.strippedBytes(of: try ELFFile(bytes: ELFTestImage().bytes(), file: "x")) == nil)
    }

    @Test("a synthetic image reads back its machine, interpreter, libraries, version needs and versioned imports")
    func syntheticImage() throws {
        var image = ELFTestImage()
        image.machine = 183
        image.needed = ["libc.so.6", "libswiftCore.so"]
        image.versionNeeds = [("libc.so.6", ["GLIBC_2.17", "GLIBC_2.38"]), ("libstdc++.so.6", ["GLIBCXX_3.4.30"])]
        image.imports = [("strlcpy", "GLIBC_2.38"), ("memcpy", "GLIBC_2.17"), ("_ZdlPv", "GLIBCXX_3.4.30"), ("plain", nil)]
        image.defined = [("exported", "GLIBC_2.38")]
        let elf = try ELFFile(bytes: image.bytes(), file: "synthetic")
        #expect(elf.machine == .aarch64)
        #expect(elf.isPositionIndependent)
        #expect(elf.interpreter == "/lib64/ld-linux-x86-64.so.2")
        #expect(elf.neededLibraries == ["libc.so.6", "libswiftCore.so"])
        #expect(elf.versionNeeds == [
            ELFFile.VersionNeed(file: "libc.so.6", versions: ["GLIBC_2.17", "GLIBC_2.38"]),
            ELFFile.VersionNeed(file: "libstdc++.so.6", versions: ["GLIBCXX_3.4.30"]),
        ])
        #expect(elf.versionedImports.map(\.symbol) == ["strlcpy", "memcpy", "_ZdlPv"])
        #expect(elf.versionedImports.first == ELFFile.VersionedImport(symbol: "strlcpy", version: "GLIBC_2.38", file: "libc.so.6"))
    }

    @Test("a static executable has no interpreter and no libraries")
    func staticExecutable() throws {
        let elf = try ELFFile(bytes: ELFTestImage.staticExecutable().bytes(), file: "static")
        #expect(elf.isStaticallyLinked)
        #expect(!elf.isPositionIndependent)
        #expect(elf.versionNeeds.isEmpty)
    }

    @Test("files that are not 64-bit little-endian executables are refused with the reason")
    func refusals() throws {
        func problem(_ bytes: [UInt8]) -> ELFError.Problem? {
            do {
                _ = try ELFFile(bytes: bytes, file: "x")
                return nil
            } catch {
                return error.problem
            }
        }
        #expect(problem(Array("GGUF\u{3}\0\0\0".utf8)) == .notELF(found: Array("GGUF".utf8)))
        #expect(problem([]) == .notELF(found: []))
        var image = ELFTestImage().bytes()
        #expect(problem(Array(image.prefix(40))) == .truncated(what: "the ELF header", offset: 0, needed: 64, fileSize: 40))
        image[4] = 1
        #expect(problem(image) == .unsupportedClass(1))
        image[4] = 2
        image[5] = 2
        #expect(problem(image) == .unsupportedByteOrder(2))
        image[5] = 1
        image[16] = 1
        #expect(problem(image) == .notAnExecutable(type: 1))
        let message = ELFError(file: "model.gguf", problem: .notELF(found: Array("GGUF".utf8))).description
        #expect(message.contains("model.gguf") && message.contains("not an ELF"))
    }

    @Test("a dynamically linked file without section headers is refused, not guessed at")
    func noSectionHeaders() throws {
        var image = ELFTestImage().bytes()
        for i in 40..<48 { image[i] = 0 }  // e_shoff = 0
        #expect(throws: ELFError(file: "x", problem: .noSectionHeaders)) { try ELFFile(bytes: image, file: "x") }
    }

    @Test("a version-need chain whose next offset leaves the section is an error")
    func chainOutOfBounds() throws {
        var image = ELFTestImage()
        image.versionNeeds = [("libc.so.6", ["GLIBC_2.2.5"]), ("libm.so.6", ["GLIBC_2.29"])]
        var bytes = image.bytes()
        let elf = try ELFFile(bytes: bytes, file: "x")
        #expect(elf.versionNeeds.count == 2)
        // Point the second Verneed's vn_next (0, the end) 4 GiB - 32 bytes on: far past the section.
        let shoff = Int(bytes[40]) | Int(bytes[41]) << 8
        let verneedHeader = shoff + 4 * 64
        let offset = (0..<8).reduce(0) { $0 | Int(bytes[verneedHeader + 24 + $1]) << (8 * $1) }
        var loop: [UInt8] = []
        loop.le32(UInt32(bitPattern: -32))
        bytes.replaceSubrange((offset + 32 + 12)..<(offset + 32 + 16), with: loop)
        // Also clear sh_info so the count does not stop the walk first.
        bytes.replaceSubrange((verneedHeader + 44)..<(verneedHeader + 48), with: [0, 0, 0, 0])
        #expect(throws: ELFError.self) { try ELFFile(bytes: bytes, file: "x") }
    }

    @Test("random truncations and bit flips of a synthetic image give a result or an ELFError, never a crash")
    func fuzzSynthetic() {
        var random = GGUFTestFiles.SeededRandom(seed: 0xE1F)
        var image = ELFTestImage()
        image.versionNeeds = [("libc.so.6", ["GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.38"]), ("libm.so.6", ["GLIBC_2.29"])]
        image.imports = [("a", "GLIBC_2.2.5"), ("b", "GLIBC_2.38"), ("c", "GLIBC_2.29"), ("d", nil)]
        let original = image.bytes()
        var parsed = 0
        var refused = 0
        for round in 0..<3000 {
            var bytes = original
            if round % 3 == 0 {
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            } else {
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
                }
                if round % 3 == 2 {
                    // Whole-field garbage where the header's offsets and counts live.
                    let at = Int.random(in: 16..<64, using: &random)
                    bytes[at] = UInt8.random(in: 0...255, using: &random)
                }
            }
            do {
                _ = try ELFFile(bytes: bytes, file: "fuzz")
                parsed += 1
            } catch {
                #expect(!error.description.isEmpty)
                refused += 1
            }
        }
        #expect(parsed + refused == 3000)
        #expect(refused > 0)
    }

    @Test("truncations and bit flips of the real test binary are refused or read, never a crash")
    func fuzzRealBinary() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.runningBinary))
        let original = Array(data)
        var random = GGUFTestFiles.SeededRandom(seed: 0xB1A)
        for round in 0..<12 {
            var bytes: [UInt8]
            if round < 6 {
                bytes = Array(original.prefix(Int.random(in: 0..<original.count, using: &random)))
                #expect(throws: ELFError.self) { try ELFFile(bytes: bytes, file: "truncated") }
            } else {
                bytes = original
                // Flip bits in the header and in the last 64 KiB, where section headers live.
                for _ in 0..<8 {
                    let inHeader = Bool.random(using: &random)
                    let at = inHeader ? Int.random(in: 0..<64, using: &random)
                        : original.count - 1 - Int.random(in: 0..<min(65_536, original.count), using: &random)
                    bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
                }
                _ = try? ELFFile(bytes: bytes, file: "flipped")
            }
        }
    }

    @Test("a model passed as --binary is refused after its first bytes")
    func modelAsBinary() throws {
        let path = try GGUFTestFiles.temporaryFile(Array("GGUF".utf8) + [UInt8](repeating: 0, count: 100), name: "m.gguf")
        #expect(throws: ELFError(file: path, problem: .notELF(found: Array("GGUF".utf8)))) { try ELFFile.read(path: path) }
        #expect(throws: ELFError.self) { try ELFFile.read(path: path + ".missing") }
    }
}
