import Foundation
import ModelFiles
import Testing
import TestSupport

/// Hostile GGUF headers that claim enormous strings, arrays, tensors and keys: each
/// must be refused with a GGUFError naming the field and limit, before the claimed
/// size reaches an allocation. A claim of 2^60 elements that were reserved would
/// trap or exhaust memory, so these tests finishing is itself the proof; claims
/// under the caps must stop at the "fits in the bytes left" check, which the parser
/// makes before it reserves anything (the expected offsets below are those of the
/// count field itself, so not one element was read).
@Suite("GGUF caps on claimed sizes before allocation")
struct GGUFAllocationCapTests {
    static let huge: [UInt64] = [1 << 60, 1 << 63, UInt64(Int.max), .max]

    func problem(_ bytes: [UInt8]) -> GGUFError.Problem? {
        do {
            _ = try GGUFFile(bytes: bytes, name: "hostile.gguf")
            return nil
        } catch {
            #expect(error.file == "hostile.gguf")
            #expect(!error.description.isEmpty)
            return error.problem
        }
    }

    /// One key `name` holding an array header of `count` `element`s, then `padding` zero bytes.
    func arrayFile(_ name: String = "a", element: GGUFValueType, count: UInt64, padding: Int = 64) -> (bytes: [UInt8], countEnd: Int) {
        var b = nestedArrayHeader(name, innerArrays: 0, element: element, count: count)
        let countEnd = b.bytes.count
        b.zeros(padding)
        return (b.bytes, countEnd)
    }

    /// One key `name` holding an array of one array of one ... (`innerArrays` levels
    /// below the outermost) whose innermost header claims `count` `element`s; the
    /// caller appends what follows.
    func nestedArrayHeader(_ name: String, innerArrays: Int, element: GGUFValueType, count: UInt64) -> GGUFBytes {
        var b = GGUFBytes(tensorCount: 0, keyCount: 1)
        b.string(name)
        b.u32(GGUFValueType.array.rawValue)
        for _ in 0..<innerArrays {
            b.u32(GGUFValueType.array.rawValue)
            b.u64(1)
        }
        b.u32(element.rawValue)
        b.u64(count)
        return b
    }

    // MARK: Strings

    @Test("a string value claiming 2^60 bytes or more is refused by the string cap")
    func hugeStringValue() {
        for length in Self.huge {
            var b = GGUFBytes(tensorCount: 0, keyCount: 1)
            b.string("tokenizer.chat_template")
            b.u32(GGUFValueType.string.rawValue)
            b.u64(length)
            b.zeros(64)
            #expect(problem(b.bytes) == .stringTooLong(what: "metadata 'tokenizer.chat_template'", length: length,
                                                       limit: GGUFLimits.maxStringLength))
        }
        let message = GGUFError(file: "m.gguf", problem: .stringTooLong(what: "metadata 'k'", length: 1 << 60,
                                                                        limit: GGUFLimits.maxStringLength)).description
        #expect(message.contains("1152921504606846976") && message.contains("\(GGUFLimits.maxStringLength)") && message.contains("'k'"))
    }

    @Test("a string at the cap but longer than the file stops at the length field")
    func cappedStringPastTheEnd() {
        var b = GGUFBytes(tensorCount: 0, keyCount: 1)
        b.string("k")
        b.u32(GGUFValueType.string.rawValue)
        b.u64(UInt64(GGUFLimits.maxStringLength))
        let lengthEnd = b.bytes.count
        b.zeros(100)
        #expect(problem(b.bytes) == .truncated(what: "metadata 'k'", offset: lengthEnd,
                                               needed: GGUFLimits.maxStringLength, fileSize: b.bytes.count))
    }

    @Test("a key or tensor name claiming 2^60 bytes is refused by its own cap")
    func hugeKeyAndTensorName() {
        for length in Self.huge {
            var key = GGUFBytes(tensorCount: 0, keyCount: 1)
            key.u64(length)
            key.zeros(64)
            #expect(problem(key.bytes) == .stringTooLong(what: "metadata key #0", length: length, limit: GGUFLimits.maxKeyLength))

            var name = GGUFBytes(tensorCount: 1, keyCount: 0)
            name.u64(length)
            name.zeros(64)
            #expect(problem(name.bytes) == .stringTooLong(what: "tensor info #0", length: length,
                                                          limit: GGUFLimits.maxTensorNameLength))
        }
    }

    @Test("a string element inside an array claiming 2^60 bytes is refused")
    func hugeStringInArray() {
        var b = GGUFBytes(tensorCount: 0, keyCount: 1)
        b.string("tokenizer.ggml.tokens")
        b.u32(GGUFValueType.array.rawValue)
        b.u32(GGUFValueType.string.rawValue)
        b.u64(2)
        b.string("ok")
        b.u64(1 << 60)
        b.zeros(64)
        #expect(problem(b.bytes) == .stringTooLong(what: "metadata 'tokenizer.ggml.tokens'", length: 1 << 60,
                                                   limit: GGUFLimits.maxStringLength))
    }

    // MARK: Arrays

    @Test("an array claiming 2^60 or more elements of any type is refused by the array cap")
    func hugeArrayCount() {
        for element in GGUFValueType.allCases {
            for count in Self.huge {
                let file = arrayFile(element: element, count: count)
                #expect(problem(file.bytes) == .arrayTooLong(key: "a", count: count, limit: GGUFLimits.maxArrayCount),
                        "\(element) x \(count)")
            }
        }
        let message = GGUFError(file: "m.gguf", problem: .arrayTooLong(key: "a", count: 1 << 60, limit: GGUFLimits.maxArrayCount)).description
        #expect(message.contains("'a'") && message.contains("1152921504606846976") && message.contains("\(GGUFLimits.maxArrayCount)"))
    }

    @Test("an array at the cap but longer than the file stops at its count, for every element type")
    func cappedArrayPastTheEnd() throws {
        let count = GGUFLimits.maxArrayCount
        let minimumSizes: [GGUFValueType: Int] = [
            .uint8: 1, .int8: 1, .bool: 1, .uint16: 2, .int16: 2, .uint32: 4, .int32: 4, .float32: 4,
            .uint64: 8, .int64: 8, .float64: 8, .string: 8, .array: 12,
        ]
        for element in GGUFValueType.allCases {
            let size = try #require(minimumSizes[element])
            let file = arrayFile(element: element, count: UInt64(count))
            #expect(problem(file.bytes) == .truncated(what: "array 'a' of \(count) \(element)", offset: file.countEnd,
                                                      needed: count * size, fileSize: file.bytes.count))
        }
    }

    @Test("the element check counts what the file holds, not one byte per element")
    func countAgainstMinimumSize() {
        // 100 uint64 need 800 bytes: 799 are not enough, 800 are.
        let short = arrayFile(element: .uint64, count: 100, padding: 799)
        #expect(problem(short.bytes) == .truncated(what: "array 'a' of 100 uint64", offset: short.countEnd,
                                                   needed: 800, fileSize: short.bytes.count))
        let exact = arrayFile(element: .uint64, count: 100, padding: 800)
        #expect(problem(exact.bytes) == nil)
    }

    @Test("a nested array claiming 2^60 elements at any depth is refused")
    func hugeNestedCount() {
        for depth in 1..<GGUFLimits.maxArrayNesting {
            var b = nestedArrayHeader("nested", innerArrays: depth, element: .uint64, count: 1 << 60)
            b.zeros(64)
            #expect(problem(b.bytes) == .arrayTooLong(key: "nested", count: 1 << 60, limit: GGUFLimits.maxArrayCount),
                    "depth \(depth)")
        }
    }

    @Test("an outer array claiming more inner arrays than the file can hold stops at its count")
    func manyInnerArrays() {
        let count = 1 << 20
        let file = arrayFile("outer", element: .array, count: UInt64(count), padding: 1000)
        #expect(problem(file.bytes) == .truncated(what: "array 'outer' of \(count) array", offset: file.countEnd,
                                                  needed: count * 12, fileSize: file.bytes.count))
    }

    @Test("arrays nest exactly as deep as the limit and no deeper")
    func nestingBoundary() throws {
        func nested(levels: Int) -> [UInt8] {
            var b = nestedArrayHeader("deep", innerArrays: levels - 1, element: .uint8, count: 1)
            b.u8(7)
            return b.bytes
        }
        #expect(problem(nested(levels: GGUFLimits.maxArrayNesting)) == nil)
        #expect(problem(nested(levels: GGUFLimits.maxArrayNesting + 1))
                == .nestingTooDeep(key: "deep", limit: GGUFLimits.maxArrayNesting))
    }

    // MARK: Counts in the header

    @Test("header key and tensor counts of 2^60 or more are refused by their caps")
    func hugeHeaderCounts() {
        for count in Self.huge {
            #expect(problem(GGUFBytes(tensorCount: 0, keyCount: count).bytes + [UInt8](repeating: 0, count: 64))
                    == .tooManyKeys(count: count, limit: GGUFLimits.maxKeys))
            #expect(problem(GGUFBytes(tensorCount: count, keyCount: 0).bytes + [UInt8](repeating: 0, count: 64))
                    == .tooManyTensors(count: count, limit: GGUFLimits.maxTensors))
        }
    }

    @Test("header counts at the caps stop at the fits-in-the-file check")
    func cappedHeaderCounts() {
        let keys = GGUFLimits.maxKeys
        let keyFile = GGUFBytes(tensorCount: 0, keyCount: UInt64(keys)).bytes + [UInt8](repeating: 0, count: 1000)
        #expect(problem(keyFile) == .truncated(what: "metadata (\(keys) keys)", offset: 24, needed: keys * 13, fileSize: keyFile.count))

        let tensors = GGUFLimits.maxTensors
        let tensorFile = GGUFBytes(tensorCount: UInt64(tensors), keyCount: 0).bytes + [UInt8](repeating: 0, count: 1000)
        #expect(problem(tensorFile) == .truncated(what: "tensor infos (\(tensors) tensors)", offset: 24,
                                                  needed: tensors * 32, fileSize: tensorFile.count))
    }

    @Test("a tensor claiming 2^32-1 dimensions is refused before any is read")
    func hugeDimensionCount() {
        var b = GGUFBytes(tensorCount: 1, keyCount: 0)
        b.string("w")
        b.u32(.max)
        b.zeros(64)
        #expect(problem(b.bytes) == .tooManyDims(name: "w", count: .max))
    }

    @Test("a tensor claiming 2^60 elements is only ever a view: refused as out of bounds, nothing copied")
    func hugeTensorData() {
        var b = GGUFBytes(tensorCount: 1, keyCount: 0)
        b.tensorInfo("w", dims: [1 << 60], type: 1, offset: 0)  // F16: 2^61 bytes, still addressable
        b.pad()
        b.zeros(64)
        let dataStart = b.bytes.count - 64
        #expect(problem(b.bytes) == .tensorOutOfBounds(name: "w", start: dataStart, end: dataStart + (1 << 61), fileSize: b.bytes.count))
    }

    @Test("hostile claims are refused the same way from a file on disk")
    func fromDisk() throws {
        let path = try GGUFTestFiles.temporaryFile(arrayFile(element: .uint64, count: 1 << 60).bytes, name: "hostile.gguf")
        do {
            _ = try GGUFFile(path: path)
            Issue.record("a 2^60-element array loaded")
        } catch {
            #expect(error.problem == .arrayTooLong(key: "a", count: 1 << 60, limit: GGUFLimits.maxArrayCount))
            #expect(error.description.hasPrefix(path + ": "))
        }
    }

    // MARK: What the caps allow

    @Test("the total element cap bounds parsed value storage (not string bytes) to at most 1 GiB")
    func valueStorageBound() {
        #expect(GGUFLimits.maxArrayCount <= GGUFLimits.maxTotalArrayElements)
        #expect(GGUFLimits.maxTotalArrayElements * MemoryLayout<GGUFValue>.stride <= 1 << 30)
    }

    #if os(Linux)
    /// Resident bytes of this process: parsed values are written, so they are resident.
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kB = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return kB * 1024
    }

    /// Not a check but a measurement for the security review, off by default (it parses
    /// files of about 1M elements and must run alone, since it reads the process's resident
    /// figures): LAMBDA_LLM_GGUF_MEMORY_REPORT=1 swift test --filter GGUFAllocationCap
    @Test("report: resident bytes per parsed array element, and the worst case the caps allow",
          .enabled(if: ProcessInfo.processInfo.environment["LAMBDA_LLM_GGUF_MEMORY_REPORT"] == "1"))
    func memoryReport() throws {
        let count = 1 << 20
        let shapes: [(label: String, element: GGUFValueType, write: (inout GGUFBytes) -> Void)] = [
            ("uint8 (1 file byte each)", .uint8, { $0.u8(1) }),
            ("empty string (8 bytes)", .string, { $0.u64(0) }),
            ("15-byte string (23 bytes, stored inline)", .string, { $0.string(String(repeating: "x", count: 15)) }),
            ("16-byte string (24 bytes, heap storage)", .string, { $0.string(String(repeating: "x", count: 16)) }),
            ("empty array (12 bytes)", .array, { $0.u32(GGUFValueType.uint8.rawValue); $0.u64(0) }),
        ]
        print("GGUFValue stride: \(MemoryLayout<GGUFValue>.stride) bytes; caps: \(GGUFLimits.maxArrayCount) per array, "
              + "\(GGUFLimits.maxTotalArrayElements) in all")
        // Every file is built first and every parse is kept alive, so no freed memory is
        // reused between measurements and each delta is that parse's own.
        let files = shapes.map { shape -> (bytes: [UInt8], perElementFile: Double) in
            var b = GGUFBytes(tensorCount: 0, keyCount: 1)
            b.string("a")
            b.u32(GGUFValueType.array.rawValue)
            b.u32(shape.element.rawValue)
            b.u64(UInt64(count))
            let headerEnd = b.bytes.count
            for _ in 0..<count { shape.write(&b) }
            return (b.bytes, Double(b.bytes.count - headerEnd) / Double(count))
        }
        var kept: [GGUFFile] = []
        for (shape, file) in zip(shapes, files) {
            let before = Self.residentBytes()
            kept.append(try GGUFFile(bytes: file.bytes, name: "measure.gguf"))
            let held = Self.residentBytes() - before - file.bytes.count  // less the parser's own copy of the bytes
            let perElement = Double(held) / Double(count)
            let worst = perElement * Double(GGUFLimits.maxTotalArrayElements)
            print(shape.label + String(format: ": %.1f resident bytes per element, %.1fx the file; at the total cap: %.0f MiB resident from a %.0f MiB file",
                                       perElement, perElement / file.perElementFile, worst / 1_048_576,
                                       file.perElementFile * Double(GGUFLimits.maxTotalArrayElements) / 1_048_576))
        }
        withExtendedLifetime(kept) {}
    }
    #endif
}
