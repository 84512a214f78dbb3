/// Why a checkpoint's config.json or tokenizer files could not be read (ConversionError covers
/// the tensors and the output). Every message names the
/// file and, where there is one, the field or byte offset, so the user can fix
/// the input rather than guess.
public enum CheckpointFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingFile(String)
    case unreadableFile(String, reason: String)
    case invalidJSON(file: String, reason: String)
    case unsupportedArchitecture(file: String, found: [String], supported: [String])
    case invalidField(file: String, field: String, reason: String)
    case unsupportedRopeScaling(file: String, type: String, supported: [String])
    case malformedProtobuf(file: String, offset: Int, reason: String)
    case noTokenizer(directory: String, lookedFor: [String])
    case unsupportedTokenizerModel(file: String, type: String, supported: [String])
    case unsupportedPreTokenizer(file: String, description: String)
    case invalidTokenizer(file: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "\(path): file not found"
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .invalidJSON(let file, let reason):
            return "\(file): not valid JSON: \(reason)"
        case .unsupportedArchitecture(let file, let found, let supported):
            let shown = found.isEmpty ? "none listed" : found.joined(separator: ", ")
            return "\(file): architectures \(shown) not supported; supported: \(supported.joined(separator: ", "))"
        case .invalidField(let file, let field, let reason):
            return "\(file): field \"\(field)\" \(reason)"
        case .unsupportedRopeScaling(let file, let type, let supported):
            return "\(file): rope_scaling type \"\(type)\" not supported; supported: none (null), "
                + supported.joined(separator: ", ")
        case .malformedProtobuf(let file, let offset, let reason):
            return "\(file): malformed SentencePiece model at byte \(offset): \(reason)"
        case .noTokenizer(let directory, let lookedFor):
            return "\(directory): no tokenizer found; looked for \(lookedFor.joined(separator: ", "))"
        case .unsupportedTokenizerModel(let file, let type, let supported):
            return "\(file): tokenizer model type \"\(type)\" not supported; supported: \(supported.joined(separator: ", "))"
        case .unsupportedPreTokenizer(let file, let description):
            return "\(file): pre-tokenizer not recognised (supported: Llama-3 split regex, GPT-2 ByteLevel, "
                + "SmolLM digits + ByteLevel): \(description)"
        case .invalidTokenizer(let file, let reason):
            return "\(file): \(reason)"
        }
    }
}
