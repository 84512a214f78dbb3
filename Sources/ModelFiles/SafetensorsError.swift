/// Everything that can be wrong with a safetensors file or a Hugging Face
/// checkpoint directory, named after the file and the tensor or field at fault.
public struct SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Problem: Equatable, Sendable {
        case io(message: String)
        /// Fewer than the 8 bytes of the header length.
        case tooShort(fileSize: Int)
        case emptyHeader
        case headerTooLarge(length: UInt64, limit: Int)
        case headerPastEnd(length: UInt64, fileSize: Int)
        /// The header is not valid JSON; `offset` is absolute in the file.
        case headerNotJSON(offset: Int, reason: String)
        case duplicateTensorName(String)
        case headerNotObject(found: String)
        /// `__metadata__` is not an object whose values are all strings.
        case badMetadata(key: String?, found: String)
        case missingField(tensor: String, field: String)
        case wrongFieldType(tensor: String, field: String, expected: String, found: String)
        case unknownDType(tensor: String, dtype: String)
        case negativeDimension(tensor: String, shape: [Int])
        case tooManyDimensions(tensor: String, count: Int, limit: Int)
        /// Element or byte count does not fit in an `Int`.
        case sizeOverflow(tensor: String, shape: [Int])
        case badOffsets(tensor: String, begin: Int, end: Int)
        case tensorPastEnd(tensor: String, end: Int, dataSize: Int)
        case sizeMismatch(tensor: String, dtype: SafetensorsDType, shape: [Int], expected: Int, actual: Int)
        case tensorsOverlap(String, String)
        /// Data-section bytes no tensor claims; the format forbids them (they
        /// are how polyglot files hide a second payload).
        case unindexedData(begin: Int, end: Int, after: String?)
        /// A conversion to Float was asked of a dtype that has none.
        case notConvertible(tensor: String, dtype: SafetensorsDType)

        // Checkpoint directories.
        case notADirectory
        case noSafetensors(pickles: [String], otherSafetensors: [String])
        case indexInvalid(reason: String)
        case unsafeShardName(String)
        case missingShard(String)
        case tensorMissingFromShard(tensor: String, shard: String)
        case tensorInTwoShards(tensor: String, first: String, second: String)
        case tensorNotInIndex(tensor: String, shard: String)
    }

    /// The file or directory path, or the name given to in-memory bytes.
    public let file: String
    public let problem: Problem

    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem.message)" }
}

extension SafetensorsError.Problem {
    var message: String {
        func dims(_ shape: [Int]) -> String { "[\(shape.map(String.init).joined(separator: ", "))]" }
        switch self {
        case .io(let message):
            return "cannot read: \(message)"
        case .tooShort(let size):
            return "not a safetensors file: \(size) bytes, shorter than the 8-byte header length"
        case .emptyHeader:
            return "not a safetensors file: header length is 0"
        case .headerTooLarge(let length, let limit):
            return "header length \(length) is over the limit of \(limit) bytes (not a safetensors file, or corrupt)"
        case .headerPastEnd(let length, let fileSize):
            return "header length \(length) runs past the end of the \(fileSize)-byte file (truncated download?)"
        case .headerNotJSON(let offset, let reason):
            return "header is not valid UTF-8 JSON (file byte \(offset)): \(reason)"
        case .duplicateTensorName(let name):
            return "header names tensor '\(name)' twice"
        case .headerNotObject(let found):
            return "header is \(found), expected a JSON object of tensors"
        case .badMetadata(let key, let found):
            if let key { return "__metadata__ value for '\(key)' is \(found), expected a string" }
            return "__metadata__ is \(found), expected an object of strings"
        case .missingField(let tensor, let field):
            return "tensor '\(tensor)' has no '\(field)'"
        case .wrongFieldType(let tensor, let field, let expected, let found):
            return "tensor '\(tensor)' field '\(field)' is \(found), expected \(expected)"
        case .unknownDType(let tensor, let dtype):
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "tensor '\(tensor)' has dtype '\(dtype)', which this reader does not know (known: \(known))"
        case .negativeDimension(let tensor, let shape):
            return "tensor '\(tensor)' has shape \(dims(shape)) with a negative dimension"
        case .tooManyDimensions(let tensor, let count, let limit):
            return "tensor '\(tensor)' has \(count) dimensions; at most \(limit) are supported"
        case .sizeOverflow(let tensor, let shape):
            return "tensor '\(tensor)' has shape \(dims(shape)), too large to address"
        case .badOffsets(let tensor, let begin, let end):
            return "tensor '\(tensor)' has data_offsets [\(begin), \(end)]; begin must be >= 0 and <= end"
        case .tensorPastEnd(let tensor, let end, let dataSize):
            return "tensor '\(tensor)' data ends at \(end) but the data section has \(dataSize) bytes (truncated file?)"
        case .sizeMismatch(let tensor, let dtype, let shape, let expected, let actual):
            return "tensor '\(tensor)' is \(dtype.rawValue) \(dims(shape)), which takes \(expected) bytes, but its data_offsets span \(actual)"
        case .tensorsOverlap(let a, let b):
            return "tensors '\(a)' and '\(b)' overlap in the data section"
        case .unindexedData(let begin, let end, let after):
            let place = after.map { "after tensor '\($0)'" } ?? "at the start of the data section"
            return "data-section bytes \(begin)..<\(end) \(place) belong to no tensor; the format forbids gaps"
        case .notConvertible(let tensor, let dtype):
            return "tensor '\(tensor)' is \(dtype.rawValue); only F32, F16 and BF16 convert to floats"
        case .notADirectory:
            return "not a directory; expected a Hugging Face model directory"
        case .noSafetensors(let pickles, let others):
            if !pickles.isEmpty {
                return "no model.safetensors or model.safetensors.index.json; found PyTorch pickle files "
                    + "(\(pickles.joined(separator: ", "))), which can execute arbitrary code when loaded and are refused. "
                    + "Convert them to safetensors on a trusted machine with the `safetensors` Python package "
                    + "(safetensors.torch.save_file(torch.load(path, weights_only=True), \"model.safetensors\"))"
            }
            if !others.isEmpty {
                return "no model.safetensors or model.safetensors.index.json (found \(others.joined(separator: ", ")); "
                    + "rename the model's weights to model.safetensors if that is what they are)"
            }
            return "no model.safetensors or model.safetensors.index.json in this directory"
        case .indexInvalid(let reason):
            return "invalid index: \(reason)"
        case .unsafeShardName(let name):
            return "index names shard \"\(name)\", which is not a plain file name in the model directory; refused"
        case .missingShard(let name):
            return "index names shard '\(name)', which is not in the directory (incomplete download?)"
        case .tensorMissingFromShard(let tensor, let shard):
            return "index puts tensor '\(tensor)' in '\(shard)', which does not contain it"
        case .tensorInTwoShards(let tensor, let first, let second):
            return "tensor '\(tensor)' is in both '\(first)' and '\(second)'"
        case .tensorNotInIndex(let tensor, let shard):
            return "shard '\(shard)' holds tensor '\(tensor)', which the index's weight_map does not list"
        }
    }
}
