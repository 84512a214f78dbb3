import Kernels

/// Everything that can stop a model from loading or evaluating, each with a
/// message a user can act on.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case unsupportedArchitecture(String?)
    case missingTensors([String])
    case tensorShapeMismatch(name: String, expected: [Int], found: [Int])
    case unsupportedTensorType(name: String, type: GGMLType)
    case invalidConfiguration(key: String, reason: String)
    case contextOverflow(needed: Int, limit: Int)
    case tokenOutOfRange(id: Int32, vocabularySize: Int)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let arch):
            return "unsupported architecture '\(arch ?? "(general.architecture missing)")': this engine runs the Llama family (general.architecture = llama: Llama-2/3, Mistral, TinyLlama, SmolLM)"
        case .missingTensors(let names):
            let shown = names.prefix(12).joined(separator: ", ")
            return "model is missing \(names.count) required tensor(s): \(shown)\(names.count > 12 ? ", ..." : "")"
        case .tensorShapeMismatch(let name, let expected, let found):
            return "tensor '\(name)' has shape \(found) but the configuration needs \(expected)"
        case .unsupportedTensorType(let name, let type):
            return "tensor '\(name)' has type \(type), which this engine cannot use there"
        case .invalidConfiguration(let key, let reason):
            return "invalid model configuration '\(key)': \(reason)"
        case .contextOverflow(let needed, let limit):
            return "context overflow: \(needed) tokens needed but the context holds \(limit) (raise --context, up to the model's trained length)"
        case .tokenOutOfRange(let id, let vocabularySize):
            return "token id \(id) is outside the vocabulary (0..<\(vocabularySize))"
        }
    }
}
