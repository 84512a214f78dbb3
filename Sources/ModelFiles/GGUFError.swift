import Kernels

/// Everything that can be wrong with a GGUF file, named after the file and the
/// field at fault so that the message alone tells the user what to fix.
public struct GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum ShapeIssue: Equatable, Sendable {
        case noDimensions
        case zeroDimension
        /// Element or byte count does not fit in a 64-bit integer.
        case overflow
        /// ne0 (the row length) must be a whole number of the type's blocks.
        case rowNotMultipleOfBlock(type: GGMLType)
    }

    public enum Problem: Equatable, Sendable {
        case badMagic(found: [UInt8])
        case unsupportedVersion(UInt32)
        case bigEndian
        /// Reading `what` needed `needed` bytes at `offset`, past the end of the file.
        case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
        case tooManyTensors(count: UInt64, limit: Int)
        case tooManyKeys(count: UInt64, limit: Int)
        case stringTooLong(what: String, length: UInt64, limit: Int)
        case arrayTooLong(key: String, count: UInt64, limit: Int)
        case nestingTooDeep(key: String, limit: Int)
        case unknownValueType(key: String, id: UInt32)
        case unknownTensorType(name: String, id: UInt32)
        case tooManyDims(name: String, count: UInt32)
        case badShape(name: String, shape: [UInt64], issue: ShapeIssue)
        case badAlignment(UInt64)
        case tensorOutOfBounds(name: String, start: Int, end: Int, fileSize: Int)
        case tensorMisaligned(name: String, offset: Int, alignment: Int)
        case tensorsOverlap(String, String)
        case duplicateTensorName(String)
        case duplicateKey(String)
        case missingKey(String)
        case wrongType(key: String, expected: String, found: String)
        case io(path: String, message: String)
    }

    /// The file path, or the name given to an in-memory file.
    public let file: String
    public let problem: Problem

    public init(file: String, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem.message)" }
}

extension GGUFError.Problem {
    var message: String {
        switch self {
        case .badMagic(let found):
            let shown = found.map { (32..<127).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            // torch.save writes a zip (PK\3\4) or, in older versions, a bare pickle (0x80, protocol).
            let pickle = found.starts(with: [0x50, 0x4B, 0x03, 0x04]) || found.first == 0x80
            return "not a GGUF file (starts with \"\(shown)\", expected \"GGUF\")"
                + (pickle ? "; it looks like a PyTorch checkpoint (pickle), which is never loaded because unpickling runs code: convert the model's safetensors instead" : "")
        case .unsupportedVersion(let v):
            return "GGUF version \(v) is not supported (only versions 2 and 3 are); re-convert the model with a current llama.cpp"
        case .bigEndian:
            return "big-endian GGUF file; only little-endian files are supported"
        case .truncated(let what, let offset, let needed, let fileSize):
            return "truncated: \(what) needs \(needed) bytes at offset \(offset) but the file has \(fileSize) bytes"
        case .tooManyTensors(let count, let limit):
            return "header claims \(count) tensors, more than the limit of \(limit)"
        case .tooManyKeys(let count, let limit):
            return "header claims \(count) metadata keys, more than the limit of \(limit)"
        case .stringTooLong(let what, let length, let limit):
            return "\(what) has length \(length), over the limit of \(limit) bytes"
        case .arrayTooLong(let key, let count, let limit):
            return "array '\(key)' claims \(count) elements, over the limit of \(limit)"
        case .nestingTooDeep(let key, let limit):
            return "array '\(key)' nests arrays deeper than \(limit) levels"
        case .unknownValueType(let key, let id):
            return "metadata '\(key)' has unknown value type id \(id)"
        case .unknownTensorType(let name, let id):
            if let known = ggmlTypeName(id) {
                return "tensor '\(name)' has ggml type \(known) (id \(id)), which this build cannot read"
            }
            return "tensor '\(name)' has unknown ggml type id \(id)"
        case .tooManyDims(let name, let count):
            return "tensor '\(name)' has \(count) dimensions; at most \(GGUFLimits.maxDimensions) are supported"
        case .badShape(let name, let shape, let issue):
            let dims = "[\(shape.map(String.init).joined(separator: ", "))]"
            switch issue {
            case .noDimensions: return "tensor '\(name)' has no dimensions"
            case .zeroDimension: return "tensor '\(name)' has shape \(dims) with a zero dimension"
            case .overflow: return "tensor '\(name)' has shape \(dims), too large to address"
            case .rowNotMultipleOfBlock(let type):
                return "tensor '\(name)' has shape \(dims) but \(type) rows must be a multiple of \(type.blockSize) elements"
            }
        case .badAlignment(let value):
            return "general.alignment is \(value); it must be a power of two between 1 and \(GGUFLimits.maxAlignment)"
        case .tensorOutOfBounds(let name, let start, let end, let fileSize):
            return "tensor '\(name)' data spans bytes \(start)..<\(end) but the file has \(fileSize) bytes"
        case .tensorMisaligned(let name, let offset, let alignment):
            return "tensor '\(name)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorsOverlap(let a, let b):
            return "tensors '\(a)' and '\(b)' overlap in the data section"
        case .duplicateTensorName(let name):
            return "tensor name '\(name)' appears more than once"
        case .duplicateKey(let key):
            return "metadata key '\(key)' appears more than once"
        case .missingKey(let key):
            return "required metadata key '\(key)' is missing"
        case .wrongType(let key, let expected, let found):
            return "metadata '\(key)' is \(found), expected \(expected)"
        case .io(let path, let message):
            return path.isEmpty ? message : "cannot read: \(message)"
        }
    }
}

/// ggml's names for the type ids this build does not read, so the error says
/// "Q5_0" rather than a bare number.
func ggmlTypeName(_ id: UInt32) -> String? {
    if let known = GGMLType(rawValue: id) { return known.description }
    let names: [UInt32: String] = [
        6: "Q5_0", 7: "Q5_1", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 13: "Q5_K", 15: "Q8_K",
        16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S",
        22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
        29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4",
    ]
    return names[id]
}
