/// Why a GGUF file's tokenizer metadata could not be turned into a tokenizer.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    case missingKey(String)
    case lengthMismatch(key: String, expected: Int, actual: Int)
    case badMerge(index: Int, line: String)
    case emptyVocabulary
    case unsupportedModel(String, supported: [String])
    case unsupportedPreTokenizer(String, supported: [String])

    public var description: String {
        switch self {
        case .missingKey(let key):
            return "tokenizer metadata '\(key)' is missing or has the wrong type; re-convert the model with its tokenizer files"
        case .lengthMismatch(let key, let expected, let actual):
            return "tokenizer metadata '\(key)' has \(actual) entries but 'tokenizer.ggml.tokens' has \(expected); the file is inconsistent"
        case .badMerge(let index, let line):
            return "tokenizer.ggml.merges[\(index)] is '\(line)', expected two tokens separated by one space"
        case .emptyVocabulary:
            return "tokenizer.ggml.tokens is empty"
        case .unsupportedModel(let name, let supported):
            return "tokenizer model '\(name)' is not supported (tokenizer.ggml.model); supported: \(supported.joined(separator: ", "))"
        case .unsupportedPreTokenizer(let name, let supported):
            return "BPE pre-tokenizer '\(name)' is not supported (tokenizer.ggml.pre); supported: \(supported.joined(separator: ", "))"
        }
    }
}
