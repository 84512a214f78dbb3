import Kernels

/// Why a GGUF file could not be written; names the key, tensor or path at fault.
public enum GGUFWriterError: Error, Equatable, Sendable, CustomStringConvertible {
    case keyTooLong(String)
    case mixedArray(key: String)
    case nestingTooDeep(key: String)
    case badAlignment(key: String, found: String)
    case duplicateTensorName(String)
    case tensorNameTooLong(String)
    case badShape(name: String, shape: [Int], reason: String)
    /// A tensor's data source wrote a different number of bytes than its shape and type need.
    case byteCountMismatch(name: String, expected: Int, written: Int)
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .keyTooLong(let key):
            return "metadata key '\(key.prefix(80))...' is longer than \(GGUFLimits.maxKeyLength) bytes"
        case .mixedArray(let key):
            return "metadata '\(key)' is an array whose elements differ in type; GGUF arrays hold one type"
        case .nestingTooDeep(let key):
            return "metadata '\(key)' nests arrays deeper than \(GGUFLimits.maxArrayNesting) levels"
        case .badAlignment(let key, let found):
            return "\(key) is \(found); it must be a uint32 power of two up to \(GGUFLimits.maxAlignment)"
        case .duplicateTensorName(let name):
            return "tensor '\(name)' was added twice"
        case .tensorNameTooLong(let name):
            return "tensor name '\(name.prefix(80))...' is longer than \(GGUFLimits.maxTensorNameLength) bytes"
        case .badShape(let name, let shape, let reason):
            return "tensor '\(name)' shape \(shape): \(reason)"
        case .byteCountMismatch(let name, let expected, let written):
            return "tensor '\(name)' needs \(expected) bytes but its data source wrote \(written)"
        case .io(let path, let message):
            return "\(path): \(message)"
        }
    }
}
