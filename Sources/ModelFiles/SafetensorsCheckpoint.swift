import Foundation

/// The weights of a Hugging Face model directory: either one
/// `model.safetensors` or the shards that `model.safetensors.index.json`
/// lists. Every shard is opened and validated up front, and the index is
/// checked against the shards in both directions, so a tensor name resolves
/// to exactly one file or to nothing. PyTorch pickles are never opened.
public struct SafetensorsCheckpoint: Sendable {
    public static let singleFileName = "model.safetensors"
    public static let indexFileName = "model.safetensors.index.json"
    /// Index files of the largest public models are a few MB.
    public static let maxIndexLength = 64 << 20
    /// Extensions of PyTorch/pickle checkpoints, refused because unpickling runs code.
    public static let pickleExtensions: Set<String> = ["bin", "pt", "pth", "ckpt", "pkl"]

    private struct Location: Sendable {
        let file: Int
        let tensor: Int
    }

    public let directory: String
    /// Shard files, sorted by name (one element for a single-file model).
    public let files: [SafetensorsFile]
    /// Every tensor name, sorted.
    public let tensorNames: [String]
    private let locations: [String: Location]

    public init(directory: String) throws(SafetensorsError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw SafetensorsError(file: directory, problem: .io(message: "no such directory"))
        }
        guard isDirectory.boolValue else { throw SafetensorsError(file: directory, problem: .notADirectory) }
        self.directory = directory

        let indexPath = Self.join(directory, Self.indexFileName)
        if FileManager.default.fileExists(atPath: indexPath) {
            let weightMap = try Self.readWeightMap(indexPath)
            let shardNames = Array(Set(weightMap.values)).sorted()
            for name in shardNames {
                guard Self.isPlainFileName(name) else {
                    throw SafetensorsError(file: indexPath, problem: .unsafeShardName(name))
                }
            }
            var files: [SafetensorsFile] = []
            for name in shardNames {
                let path = Self.join(directory, name)
                guard FileManager.default.fileExists(atPath: path) else {
                    throw SafetensorsError(file: indexPath, problem: .missingShard(name))
                }
                files.append(try SafetensorsFile(path: path))
            }
            locations = try Self.locate(files, shardNames: shardNames, weightMap: weightMap, indexPath: indexPath)
            self.files = files
        } else {
            let path = Self.join(directory, Self.singleFileName)
            guard FileManager.default.fileExists(atPath: path) else { throw Self.nothingToLoad(directory) }
            let file = try SafetensorsFile(path: path)
            var map: [String: Location] = [:]
            for (i, tensor) in file.tensors.enumerated() { map[tensor.name] = Location(file: 0, tensor: i) }
            locations = map
            files = [file]
        }
        tensorNames = locations.keys.sorted()
    }

    public func tensor(named name: String) -> (file: SafetensorsFile, info: SafetensorsTensorInfo)? {
        guard let location = locations[name] else { return nil }
        let file = files[location.file]
        return (file, file.tensors[location.tensor])
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// A shard name must name a file directly inside the directory: no separators, no dot entries.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\\")
            && !name.utf8.contains(0)
    }

    private static func nothingToLoad(_ directory: String) -> SafetensorsError {
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        let pickles = entries.filter { pickleExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
        let others = entries.filter { ($0 as NSString).pathExtension.lowercased() == "safetensors" }
        return SafetensorsError(file: directory, problem: .noSafetensors(pickles: pickles, otherSafetensors: others))
    }

    private static func readWeightMap(_ indexPath: String) throws(SafetensorsError) -> [String: String] {
        func invalid(_ reason: String) -> SafetensorsError {
            SafetensorsError(file: indexPath, problem: .indexInvalid(reason: reason))
        }
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: indexPath)
        } catch {
            throw SafetensorsError(file: indexPath, problem: .io(message: error.reasonDescription))
        }
        guard mapped.count <= maxIndexLength else { throw invalid("\(mapped.count) bytes, over the limit of \(maxIndexLength)") }
        let root: JSONValue
        do {
            root = try JSONValue.parse(mapped.bytes)
        } catch {
            throw invalid(error.description)
        }
        guard case .object(let object) = root else { throw invalid("top level is \(root.kindDescription), expected an object") }
        guard let weightMapValue = object["weight_map"] else { throw invalid("no \"weight_map\"") }
        guard case .object(let weightMap) = weightMapValue else {
            throw invalid("\"weight_map\" is \(weightMapValue.kindDescription), expected an object")
        }
        var result: [String: String] = [:]
        for tensor in weightMap.keys {
            guard case .string(let shard) = weightMap[tensor]! else {
                throw invalid("weight_map entry '\(tensor)' is \(weightMap[tensor]!.kindDescription), expected a file name")
            }
            result[tensor] = shard
        }
        return result
    }

    /// Checks the index against the shards both ways and maps every tensor to its one file.
    private static func locate(
        _ files: [SafetensorsFile], shardNames: [String], weightMap: [String: String], indexPath: String
    ) throws(SafetensorsError) -> [String: Location] {
        var locations: [String: Location] = [:]
        locations.reserveCapacity(weightMap.count)
        for (fileIndex, file) in files.enumerated() {
            for (tensorIndex, tensor) in file.tensors.enumerated() {
                if let earlier = locations[tensor.name] {
                    throw SafetensorsError(file: indexPath, problem: .tensorInTwoShards(
                        tensor: tensor.name, first: shardNames[earlier.file], second: shardNames[fileIndex]))
                }
                guard weightMap[tensor.name] == shardNames[fileIndex] else {
                    if let listed = weightMap[tensor.name] {
                        throw SafetensorsError(file: indexPath, problem: .tensorInTwoShards(
                            tensor: tensor.name, first: listed, second: shardNames[fileIndex]))
                    }
                    throw SafetensorsError(file: indexPath, problem: .tensorNotInIndex(tensor: tensor.name, shard: shardNames[fileIndex]))
                }
                locations[tensor.name] = Location(file: fileIndex, tensor: tensorIndex)
            }
        }
        for (tensor, shard) in weightMap.sorted(by: { $0.key < $1.key }) where locations[tensor] == nil {
            throw SafetensorsError(file: indexPath, problem: .tensorMissingFromShard(tensor: tensor, shard: shard))
        }
        return locations
    }
}
