import Foundation
import ModelFiles
import Testing
import TestSupport

/// Hand-made malformed files: each must fail with the one typed problem that names what is wrong.
@Suite("Safetensors reader refuses malformed files")
struct SafetensorsValidationTests {
    typealias Files = SafetensorsTestFiles

    func problem(_ bytes: [UInt8]) -> SafetensorsError.Problem? {
        do {
            _ = try SafetensorsFile(bytes: bytes, name: "bad.safetensors")
            return nil
        } catch {
            #expect(error.file == "bad.safetensors")
            #expect(error.description.hasPrefix("bad.safetensors: "))
            return error.problem
        }
    }

    /// A file whose header has one tensor entry `entry` named "t" over `data`.
    func problem(entry: String, data: [UInt8] = []) -> SafetensorsError.Problem? {
        problem(Files.file(header: "{\"t\":\(entry)}", data: data))
    }

    @Test("a file shorter than the 8-byte length prefix is refused")
    func tooShort() {
        for n in 0..<8 { #expect(problem(Array(repeating: 1, count: n)) == .tooShort(fileSize: n)) }
    }

    @Test("header length of zero, over the cap, or past the end of the file is refused")
    func headerLength() {
        #expect(problem(Files.file(headerBytes: [], data: [1, 2])) == .emptyHeader)
        let limit = SafetensorsLimits.maxHeaderLength
        #expect(problem(Files.file(headerBytes: Array("{}".utf8), declaredLength: UInt64(limit) + 1))
            == .headerTooLarge(length: UInt64(limit) + 1, limit: limit))
        #expect(problem(Files.file(headerBytes: Array("{}".utf8), declaredLength: .max))
            == .headerTooLarge(length: .max, limit: limit))
        #expect(problem(Files.file(headerBytes: Array("{}".utf8), declaredLength: 3)) == .headerPastEnd(length: 3, fileSize: 10))
    }

    @Test("a header that is not UTF-8 JSON, or not an object, is refused with its position")
    func headerNotJSON() {
        guard case .headerNotJSON(let offset, _) = problem(Files.file(headerBytes: Array("{\"a\":}".utf8))) else {
            Issue.record("expected headerNotJSON"); return
        }
        #expect(offset == 8 + 5)
        guard case .headerNotJSON(_, let reason) = problem(Files.file(headerBytes: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])) else {
            Issue.record("expected headerNotJSON for invalid UTF-8"); return
        }
        #expect(reason.contains("UTF-8"))
        if case .headerNotJSON = problem(Files.file(headerBytes: Array("{} x".utf8))) {} else { Issue.record("trailing data accepted") }
        if case .headerNotJSON = problem(Files.file(headerBytes: Array("{}\0\0".utf8))) {} else { Issue.record("NUL padding accepted") }
        #expect(problem(Files.file(header: "[1,2]")) == .headerNotObject(found: "an array"))
        #expect(problem(Files.file(header: "\"x\"")) == .headerNotObject(found: "a string"))
    }

    @Test("a tensor named twice is refused (JSONSerialization would keep one silently)")
    func duplicateNames() {
        let entry = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}"
        #expect(problem(Files.file(header: "{\"t\":\(entry),\"t\":\(entry)}", data: [1])) == .duplicateTensorName("t"))
    }

    @Test("__metadata__ must be an object of strings")
    func metadata() {
        #expect(problem(Files.file(header: "{\"__metadata__\":[]}")) == .badMetadata(key: nil, found: "an array"))
        #expect(problem(Files.file(header: "{\"__metadata__\":{\"n\":1}}")) == .badMetadata(key: "n", found: "an integer"))
    }

    @Test("tensor entries missing a field, or with a field of the wrong JSON type, name the field")
    func fields() {
        #expect(problem(entry: "{\"shape\":[1],\"data_offsets\":[0,1]}", data: [0]) == .missingField(tensor: "t", field: "dtype"))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"data_offsets\":[0,1]}", data: [0]) == .missingField(tensor: "t", field: "shape"))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[1]}", data: [0]) == .missingField(tensor: "t", field: "data_offsets"))
        #expect(problem(entry: "[]") == .wrongFieldType(tensor: "t", field: "(entry)", expected: "an object", found: "an array"))
        #expect(problem(entry: "{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,1]}", data: [0])
            == .wrongFieldType(tensor: "t", field: "dtype", expected: "a string", found: "an integer"))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":\"1\",\"data_offsets\":[0,1]}", data: [0])
            == .wrongFieldType(tensor: "t", field: "shape", expected: "an array of integers", found: "a string"))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[1.0],\"data_offsets\":[0,1]}", data: [0])
            == .wrongFieldType(tensor: "t", field: "shape", expected: "an array of integers", found: "an array holding a number"))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[true],\"data_offsets\":[0,1]}", data: [0])
            == .wrongFieldType(tensor: "t", field: "shape", expected: "an array of integers", found: "an array holding a boolean"))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}", data: [0])
            == .wrongFieldType(tensor: "t", field: "data_offsets", expected: "[begin, end]", found: "an array of 3 integers"))
        // Larger than Int: parsed as a non-integer number, never silently rounded.
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999]}", data: [0])
            == .wrongFieldType(tensor: "t", field: "data_offsets", expected: "[begin, end] integers", found: "an array holding a number"))
    }

    @Test("an unknown dtype is refused and named")
    func unknownDType() {
        #expect(problem(entry: "{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}", data: [0]) == .unknownDType(tensor: "t", dtype: "F4"))
        #expect(problem(entry: "{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}", data: [0, 0, 0, 0]) == .unknownDType(tensor: "t", dtype: "f32"))
    }

    @Test("negative dimensions, more than 8 dimensions and overflowing sizes are refused")
    func shapes() {
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[2,-1],\"data_offsets\":[0,0]}") == .negativeDimension(tensor: "t", shape: [2, -1]))
        let nine = Array(repeating: "1", count: 9).joined(separator: ",")
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[\(nine)],\"data_offsets\":[0,1]}", data: [0])
            == .tooManyDimensions(tensor: "t", count: 9, limit: 8))
        let big = 1 << 40
        #expect(problem(entry: "{\"dtype\":\"F32\",\"shape\":[\(big),\(big)],\"data_offsets\":[0,0]}")
            == .sizeOverflow(tensor: "t", shape: [big, big]))
        #expect(problem(entry: "{\"dtype\":\"F64\",\"shape\":[\(Int.max / 4)],\"data_offsets\":[0,0]}")
            == .sizeOverflow(tensor: "t", shape: [Int.max / 4]))
    }

    @Test("data_offsets must be ordered, inside the data section, and span exactly the tensor's bytes")
    func offsets() {
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,0]}", data: [0]) == .badOffsets(tensor: "t", begin: 1, end: 0))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[-1,0]}", data: [0]) == .badOffsets(tensor: "t", begin: -1, end: 0))
        #expect(problem(entry: "{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}", data: [0, 0]) == .tensorPastEnd(tensor: "t", end: 4, dataSize: 2))
        #expect(problem(entry: "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}", data: [0, 0, 0, 0])
            == .sizeMismatch(tensor: "t", dtype: .f32, shape: [2], expected: 8, actual: 4))
    }

    @Test("overlapping tensors, gaps between them and trailing bytes are refused, as the reference reader does")
    func tiling() {
        let overlap = """
        {"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}
        """
        #expect(problem(Files.file(header: overlap, data: [0, 0, 0, 0, 0])) == .tensorsOverlap("a", "b"))
        let alias = """
        {"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}
        """
        #expect(problem(Files.file(header: alias, data: [0, 0])) == .tensorsOverlap("a", "b"))
        let gap = """
        {"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[3,4]}}
        """
        #expect(problem(Files.file(header: gap, data: [0, 0, 0, 0])) == .unindexedData(begin: 1, end: 3, after: "a"))
        let leading = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}"
        #expect(problem(Files.file(header: leading, data: [0, 0, 0])) == .unindexedData(begin: 0, end: 2, after: nil))
        #expect(problem(Files.file(header: "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", data: [0, 9]))
            == .unindexedData(begin: 1, end: 2, after: "a"))
        #expect(problem(Files.file(header: "{}", data: [9])) == .unindexedData(begin: 0, end: 1, after: nil))
    }

    @Test("every problem's message names the file and reads as a sentence")
    func messages() throws {
        let error = SafetensorsError(file: "/m/model.safetensors", problem: .sizeMismatch(tensor: "w", dtype: .bf16, shape: [2, 3], expected: 12, actual: 10))
        #expect(error.description == "/m/model.safetensors: tensor 'w' is BF16 [2, 3], which takes 12 bytes, but its data_offsets span 10")
        let pickles = SafetensorsError(file: "/m", problem: .noSafetensors(pickles: ["pytorch_model.bin"], otherSafetensors: []))
        #expect(pickles.description.contains("arbitrary code") && pickles.description.contains("pytorch_model.bin"))
    }

    @Test("an unreadable path is a typed I/O error naming the path")
    func io() {
        #expect(throws: SafetensorsError(file: "/nonexistent/x.safetensors", problem: .io(message: "no such file"))) {
            try SafetensorsFile(path: "/nonexistent/x.safetensors")
        }
    }
}
