import Foundation
import ModelFiles
import Testing
import TestSupport

@Suite("Hugging Face checkpoint directories")
struct SafetensorsCheckpointTests {
    typealias Files = SafetensorsTestFiles

    func u8(_ name: String, _ value: UInt8) -> Files.Tensor { (name, .u8, [1], [value]) }

    /// A directory holding `files` (name -> bytes) and, if given, an index with `weightMap`.
    func directory(_ files: [String: [UInt8]], weightMap: [String: String]? = nil, indexJSON: String? = nil) throws -> String {
        let directory = try GGUFTestFiles.temporaryDirectory()
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        var json = indexJSON
        if let weightMap {
            let entries = weightMap.sorted { $0.key < $1.key }.map { "\(Files.quote($0.key)):\(Files.quote($0.value))" }
            json = "{\"metadata\":{\"total_size\":3},\"weight_map\":{\(entries.joined(separator: ","))}}"
        }
        if let json { try Data(json.utf8).write(to: URL(fileURLWithPath: directory + "/model.safetensors.index.json")) }
        return directory
    }

    func problem(_ directory: String) -> SafetensorsError.Problem? {
        do {
            _ = try SafetensorsCheckpoint(directory: directory)
            return nil
        } catch {
            return error.problem
        }
    }

    @Test("a single model.safetensors is the whole checkpoint")
    func singleFile() throws {
        let dir = try directory(["model.safetensors": Files.build(tensors: Files.sampleTensors())])
        let checkpoint = try SafetensorsCheckpoint(directory: dir)
        #expect(checkpoint.files.count == 1)
        #expect(checkpoint.tensorNames == Files.sampleTensors().map(\.name).sorted())
        let found = try #require(checkpoint.tensor(named: "model.norm.weight"))
        #expect(found.info.shape == [6] && found.file === checkpoint.files[0])
        #expect(checkpoint.tensor(named: "nope") == nil)
    }

    @Test("sharded checkpoints resolve each tensor to the shard the index names")
    func shards() throws {
        let dir = try directory([
            "model-00001-of-00002.safetensors": Files.build(tensors: [u8("a", 1), u8("b", 2)]),
            "model-00002-of-00002.safetensors": Files.build(tensors: [u8("c", 3)]),
            "pytorch_model.bin": [0],
        ], weightMap: ["a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
                       "c": "model-00002-of-00002.safetensors"])
        let checkpoint = try SafetensorsCheckpoint(directory: dir)
        #expect(checkpoint.tensorNames == ["a", "b", "c"])
        for (name, value) in [("a", 1), ("b", 2), ("c", 3)] {
            let found = try #require(checkpoint.tensor(named: name))
            #expect(Array(found.file.data(for: found.info)) == [UInt8(value)])
        }
        #expect(checkpoint.tensor(named: "c")!.file.path.hasSuffix("model-00002-of-00002.safetensors"))
    }

    @Test("a directory with only PyTorch pickles is refused with the reason and the fix")
    func pickles() throws {
        let dir = try directory(["pytorch_model.bin": [0], "config.json": Array("{}".utf8), "old.pth": [0]])
        #expect(problem(dir) == .noSafetensors(pickles: ["old.pth", "pytorch_model.bin"], otherSafetensors: []))
        let error = SafetensorsError(file: dir, problem: problem(dir)!)
        #expect(error.description.contains("arbitrary code") && error.description.contains("safetensors"))
        #expect(problem(try directory(["adapter.safetensors": Files.build(tensors: [])]))
            == .noSafetensors(pickles: [], otherSafetensors: ["adapter.safetensors"]))
        #expect(problem(try directory([:])) == .noSafetensors(pickles: [], otherSafetensors: []))
    }

    @Test("a path that is missing or a file is refused")
    func notADirectory() throws {
        let file = try GGUFTestFiles.temporaryFile([1], name: "x")
        #expect(problem(file) == .notADirectory)
        #expect(problem("/nonexistent/model") == .io(message: "no such directory"))
    }

    @Test("shard names with a path separator or dot entries are refused before anything is opened")
    func pathTraversal() throws {
        for name in ["../model.safetensors", "sub/model.safetensors", "..", ".", "", "a\\b.safetensors", "/etc/passwd"] {
            let dir = try directory(["model.safetensors": Files.build(tensors: [u8("a", 1)])], weightMap: ["a": name])
            #expect(problem(dir) == .unsafeShardName(name), "\(name)")
        }
    }

    @Test("the index and the shards must agree both ways")
    func indexAgreement() throws {
        let one = Files.build(tensors: [u8("a", 1)])
        #expect(problem(try directory(["s1.safetensors": one], weightMap: ["a": "s2.safetensors"])) == .missingShard("s2.safetensors"))
        #expect(problem(try directory(["s1.safetensors": one], weightMap: ["a": "s1.safetensors", "b": "s1.safetensors"]))
            == .tensorMissingFromShard(tensor: "b", shard: "s1.safetensors"))
        #expect(problem(try directory(["s1.safetensors": Files.build(tensors: [u8("a", 1), u8("x", 2)])], weightMap: ["a": "s1.safetensors"]))
            == .tensorNotInIndex(tensor: "x", shard: "s1.safetensors"))
        #expect(problem(try directory(["s1.safetensors": one, "s2.safetensors": Files.build(tensors: [u8("a", 2), u8("b", 3)])],
                                      weightMap: ["a": "s1.safetensors", "b": "s2.safetensors"]))
            == .tensorInTwoShards(tensor: "a", first: "s1.safetensors", second: "s2.safetensors"))
    }

    @Test("a malformed index is refused with what is wrong, and a bad shard with the shard's own error")
    func badIndex() throws {
        let one = ["s1.safetensors": Files.build(tensors: [u8("a", 1)])]
        for (json, expected) in [
            ("[]", "top level is an array, expected an object"),
            ("{\"metadata\":{}}", "no \"weight_map\""),
            ("{\"weight_map\":[]}", "\"weight_map\" is an array, expected an object"),
            ("{\"weight_map\":{\"a\":1}}", "weight_map entry 'a' is an integer, expected a file name"),
        ] {
            #expect(problem(try directory(one, indexJSON: json)) == .indexInvalid(reason: expected), "\(json)")
        }
        guard case .indexInvalid(let reason) = problem(try directory(one, indexJSON: "{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s1.safetensors\"}}")) else {
            Issue.record("duplicate weight_map key accepted"); return
        }
        #expect(reason.contains("appears twice"))
        let dir = try directory(["s1.safetensors": [1, 2, 3]], weightMap: ["a": "s1.safetensors"])
        do {
            _ = try SafetensorsCheckpoint(directory: dir)
            Issue.record("truncated shard accepted")
        } catch {
            #expect(error.file.hasSuffix("/s1.safetensors") && error.problem == .tooShort(fileSize: 3))
        }
    }
}
