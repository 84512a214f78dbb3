import ModelFiles

/// Why a conversion stopped; each message names the tensor or file at fault.
public enum ConversionError: Error, CustomStringConvertible {
    case unrecognisedSource(String)
    case missingTensors(source: String, names: [String])
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    case unsupportedDType(tensor: String, dtype: String)
    case vocabularyMismatch(tokens: Int, embeddingRows: Int)
    case input(String)
    case output(path: String, reason: String)

    public var description: String {
        switch self {
        case .unrecognisedSource(let path):
            return "\(path): not a GGUF file nor a Hugging Face model directory (config.json + *.safetensors)"
        case .missingTensors(let source, let names):
            let shown = names.prefix(12).joined(separator: ", ")
            return "\(source): missing \(names.count) tensor(s): \(shown)\(names.count > 12 ? ", ..." : "")"
        case .shapeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has shape \(found) but config.json implies \(expected)"
        case .unsupportedDType(let tensor, let dtype):
            return "tensor '\(tensor)' is \(dtype); only F32, F16 and BF16 checkpoints can be converted"
        case .vocabularyMismatch(let tokens, let rows):
            return "the tokenizer has \(tokens) tokens but the embedding has only \(rows) rows"
        case .input(let message):
            return message
        case .output(let path, let reason):
            return "\(path): cannot write: \(reason) (no partial file was left under this name)"
        }
    }
}
