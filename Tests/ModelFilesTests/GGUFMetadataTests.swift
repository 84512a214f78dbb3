import ModelFiles
import Testing
import TestSupport

@Suite("GGUF metadata accessors")
struct GGUFMetadataTests {
    let metadata = try! GGUFMetadata([
        ("name", .string("x")),
        ("count", .uint32(7)),
        ("big", .uint64(UInt64.max)),
        ("eps", .float32(1e-5)),
        ("base", .uint32(10_000)),
        ("flag", .bool(true)),
        ("tokens", .array([.string("a"), .string("b")])),
        ("scores", .array([.float32(-1), .float32(2.5)])),
        ("types", .array([.int32(1), .int32(6)])),
        ("mixed", .array([.int32(1), .string("b")])),
    ], file: "meta.gguf")

    @Test("typed accessors convert what fits and return nil otherwise")
    func accessors() {
        #expect(metadata.string("name") == "x")
        #expect(metadata.string("count") == nil)
        #expect(metadata.int("count") == 7)
        #expect(metadata.int("big") == nil)
        #expect(metadata.float("eps") == Double(Float(1e-5)))
        #expect(metadata.float("base") == 10_000)
        #expect(metadata.bool("flag") == true)
        #expect(metadata.bool("count") == nil)
        #expect(metadata.strings("tokens") == ["a", "b"])
        #expect(metadata.floats("scores") == [-1, 2.5])
        #expect(metadata.ints("types") == [1, 6])
        #expect(metadata.strings("mixed") == nil)
        #expect(metadata.ints("mixed") == nil)
        #expect(metadata.int("absent") == nil)
        #expect(metadata.keys.count == 10)
    }

    @Test("require variants name the missing or wrongly typed key and the file")
    func requireErrors() throws {
        #expect(try metadata.requireInt("count") == 7)
        #expect(try metadata.requireStrings("tokens") == ["a", "b"])
        #expect(throws: GGUFError(file: "meta.gguf", problem: .missingKey("llama.block_count"))) {
            try metadata.requireInt("llama.block_count")
        }
        #expect(throws: GGUFError(file: "meta.gguf", problem: .wrongType(key: "name", expected: "integer", found: "string"))) {
            try metadata.requireInt("name")
        }
        #expect(throws: GGUFError(file: "meta.gguf", problem: .wrongType(key: "mixed", expected: "array of string", found: "array of int32"))) {
            try metadata.requireStrings("mixed")
        }
        do {
            _ = try metadata.requireString("general.architecture")
        } catch {
            #expect(error.description == "meta.gguf: required metadata key 'general.architecture' is missing")
        }
    }

    @Test("removing long arrays keeps scalars, short arrays and the order of the other keys")
    func removingLongArrays() {
        let trimmed = metadata.removingArrays(longerThan: 1)
        #expect(trimmed.keys == ["name", "count", "big", "eps", "base", "flag"])
        #expect(trimmed.strings("tokens") == nil)
        #expect(trimmed.string("name") == "x")
        #expect(trimmed.file == "meta.gguf")
        let kept = metadata.removingArrays(longerThan: 2)
        #expect(kept.keys == metadata.keys)
        #expect(kept.strings("tokens") == ["a", "b"])
    }

    @Test("a file with replaced metadata still reads its tensors and has only the new keys")
    func replacingMetadataKeepsTensors() throws {
        let bytes = try GGUFTestFiles.build(metadata: [
            ("general.architecture", .string("test")),
            ("tokenizer.ggml.tokens", .array((0..<50).map { .string("t\($0)") })),
        ])
        let file = try GGUFFile(bytes: bytes, name: "replace.gguf")
        let trimmed = file.replacingMetadata(file.metadata.removingArrays(longerThan: 10))
        #expect(trimmed.metadata.keys == ["general.architecture"])
        #expect(file.metadata.strings("tokenizer.ggml.tokens")?.count == 50)
        #expect(trimmed.tensors == file.tensors)
        for info in file.tensors {
            #expect(Array(trimmed.tensorData(named: info.name)!.bytes) == Array(file.data(for: info)))
        }
    }

    @Test("building metadata with a repeated key is an error")
    func duplicateKey() {
        #expect(throws: GGUFError(file: "<memory>", problem: .duplicateKey("a"))) {
            try GGUFMetadata([("a", .bool(true)), ("a", .bool(false))])
        }
    }
}
