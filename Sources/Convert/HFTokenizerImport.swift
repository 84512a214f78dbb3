import Foundation
import ModelFiles

/// Turns a Hugging Face checkpoint's tokenizer files into GGUF `tokenizer.*`
/// metadata the way llama.cpp's convert_hf_to_gguf.py does: `tokenizer.model`
/// (SentencePiece) first, then `tokenizer.json` (byte-level BPE).
public enum HFTokenizerImport {
    /// GGUF `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type).
    enum TokenType: Int32 {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public static func metadata(directory: String, configuration: HFConfiguration) throws(CheckpointFileError) -> [(String, GGUFValue)] {
        let files = TokenizerFiles(directory: directory)
        if FileManager.default.fileExists(atPath: files.sentencePiece) {
            return try sentencePieceMetadata(files, configuration)
        }
        if FileManager.default.fileExists(atPath: files.tokenizerJSON) {
            return try bytePairMetadata(files, configuration)
        }
        throw .noTokenizer(directory: directory, lookedFor: ["tokenizer.model", "tokenizer.json"])
    }

    struct TokenizerFiles {
        let sentencePiece, tokenizerJSON, tokenizerConfig, addedTokens: String
        init(directory: String) {
            func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
            sentencePiece = path("tokenizer.model")
            tokenizerJSON = path("tokenizer.json")
            tokenizerConfig = path("tokenizer_config.json")
            addedTokens = path("added_tokens.json")
        }
    }

    // MARK: SentencePiece

    private static func sentencePieceMetadata(_ files: TokenizerFiles, _ configuration: HFConfiguration) throws(CheckpointFileError) -> [(String, GGUFValue)] {
        let model = try SentencePieceModelProto(contentsOf: files.sentencePiece)
        let vocabSize = configuration.vocabSize
        guard model.pieces.count <= vocabSize else {
            throw .invalidTokenizer(file: files.sentencePiece, reason:
                "\(model.pieces.count) pieces but config.json vocab_size is \(vocabSize)")
        }
        // Ids the model leaves unassigned up to vocab_size become unused padding, as in llama.cpp.
        var tokens = (0..<vocabSize).map { "[PAD\($0)]" }
        var scores = [Float](repeating: -1000, count: vocabSize)
        var types = [TokenType](repeating: .unused, count: vocabSize)
        for (id, piece) in model.pieces.enumerated() {
            tokens[id] = piece.piece
            scores[id] = piece.score
            types[id] = switch piece.type {
            case .normal: .normal
            case .unknown: .unknown
            case .control: .control
            case .userDefined: .userDefined
            case .byte: .byte
            case .unused: .unused
            }
        }
        func setAdded(id: Int, text: String, special: Bool, file: String) throws(CheckpointFileError) {
            guard id >= 0, id < vocabSize else {
                throw .invalidTokenizer(file: file, reason: "added token \"\(text)\" has id \(id), outside vocab_size \(vocabSize)")
            }
            // llama.cpp matches user-defined tokens against text whose spaces are not yet escaped.
            tokens[id] = special ? text : text.replacingOccurrences(of: "\u{2581}", with: " ")
            scores[id] = -1000
            types[id] = special ? .control : .userDefined
        }
        if let added = try jsonObject(files.addedTokens, required: false) {
            for (text, value) in added {
                guard let id = value as? Int else {
                    throw .invalidTokenizer(file: files.addedTokens, reason: "id of \"\(text)\" is not an integer")
                }
                try setAdded(id: id, text: text, special: false, file: files.addedTokens)
            }
        }
        let config = try jsonObject(files.tokenizerConfig, required: false) ?? [:]
        if let decoder = config["added_tokens_decoder"] as? [String: Any] {
            for (key, value) in decoder {
                guard let id = Int(key), let entry = value as? [String: Any], let text = entry["content"] as? String else {
                    throw .invalidTokenizer(file: files.tokenizerConfig, reason: "added_tokens_decoder entry \"\(key)\" needs an integer id and a content string")
                }
                try setAdded(id: id, text: text, special: entry["special"] as? Bool ?? false, file: files.tokenizerConfig)
            }
        }

        func validID(_ id: Int) -> Int? { id >= 0 && id < vocabSize ? id : nil }
        var entries: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.pre", .string("default")),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(scores.map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0.rawValue) })),
        ]
        let bos = configuration.bosTokenID ?? validID(model.bosID)
        let eos = configuration.eosTokenIDs.first ?? validID(model.eosID)
        for (name, id) in [("bos", bos), ("eos", eos), ("unknown", validID(model.unkID)), ("padding", validID(model.padID))] {
            if let id { entries.append(("tokenizer.ggml.\(name)_token_id", .uint32(UInt32(id)))) }
        }
        entries.append(("tokenizer.ggml.add_bos_token", .bool(config["add_bos_token"] as? Bool ?? true)))
        if let addEOS = config["add_eos_token"] as? Bool { entries.append(("tokenizer.ggml.add_eos_token", .bool(addEOS))) }
        let addSpace = config["add_prefix_space"] as? Bool ?? model.addDummyPrefix
        entries.append(("tokenizer.ggml.add_space_prefix", .bool(addSpace)))
        if let template = try chatTemplate(config, file: files.tokenizerConfig) {
            entries.append(("tokenizer.chat_template", .string(template)))
        }
        return entries
    }

    // MARK: tokenizer.json (byte-level BPE)

    static let supportedTokenizerModels = ["BPE"]
    static let gpt2Regex = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    private static func bytePairMetadata(_ files: TokenizerFiles, _ configuration: HFConfiguration) throws(CheckpointFileError) -> [(String, GGUFValue)] {
        let file = files.tokenizerJSON
        guard let json = try jsonObject(file, required: true) else { throw .missingFile(file) }
        guard let model = json["model"] as? [String: Any] else {
            throw .invalidTokenizer(file: file, reason: "missing \"model\" object")
        }
        let type = model["type"] as? String ?? "(none)"
        guard supportedTokenizerModels.contains(type) else {
            throw .unsupportedTokenizerModel(file: file, type: type, supported: supportedTokenizerModels)
        }
        if model["byte_fallback"] as? Bool == true {
            throw .unsupportedTokenizerModel(file: file, type: "BPE with byte_fallback (SentencePiece-style)",
                                             supported: ["byte-level BPE; for SentencePiece models provide tokenizer.model"])
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw .invalidTokenizer(file: file, reason: "model.vocab is missing or not an object")
        }
        let config = try jsonObject(files.tokenizerConfig, required: false) ?? [:]

        let vocabSize = configuration.vocabSize
        var tokens: [String?] = Array(repeating: nil, count: vocabSize)
        var types = [TokenType](repeating: .normal, count: vocabSize)
        func assign(_ text: String, _ idValue: Any?, _ type: TokenType, _ field: String) throws(CheckpointFileError) {
            guard let id = idValue as? Int else {
                throw .invalidTokenizer(file: file, reason: "\(field): id of \"\(text)\" is not an integer")
            }
            guard id >= 0, id < vocabSize else {
                throw .invalidTokenizer(file: file, reason: "\(field): \"\(text)\" has id \(id), outside config.json vocab_size \(vocabSize)")
            }
            tokens[id] = text
            types[id] = type
        }
        for (text, id) in vocab { try assign(text, id, .normal, "model.vocab") }
        for case let entry as [String: Any] in json["added_tokens"] as? [Any] ?? [] {
            guard let text = entry["content"] as? String else {
                throw .invalidTokenizer(file: file, reason: "added_tokens entry without a content string")
            }
            try assign(text, entry["id"], entry["special"] as? Bool == true ? .control : .userDefined, "added_tokens")
        }
        // Ids the files leave unassigned up to vocab_size become unused padding, as in llama.cpp.
        var finalTokens: [String] = []
        finalTokens.reserveCapacity(vocabSize)
        for (id, token) in tokens.enumerated() {
            if let token { finalTokens.append(token) } else {
                finalTokens.append("[PAD\(id)]")
                types[id] = .unused
            }
        }

        let merges = try mergeStrings(model["merges"], file: file)
        let pre = try preTokenizerName(json["pre_tokenizer"], config: config, file: file)
        var ids: [String: Int] = [:]
        ids.reserveCapacity(vocabSize)
        for (id, token) in finalTokens.enumerated() where ids[token] == nil { ids[token] = id }

        var entries: [(String, GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .array(finalTokens.map { .string($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0.rawValue) })),
            ("tokenizer.ggml.merges", .array(merges.map { .string($0) })),
        ]
        func specialID(_ key: String, fallback: Int?) -> Int? {
            if let text = tokenText(config[key]), let id = ids[text] { return id }
            return fallback
        }
        let specials = [
            ("bos", specialID("bos_token", fallback: configuration.bosTokenID)),
            ("eos", specialID("eos_token", fallback: configuration.eosTokenIDs.first)),
            ("unknown", specialID("unk_token", fallback: nil)),
            ("padding", specialID("pad_token", fallback: nil)),
        ]
        for (name, id) in specials {
            if let id { entries.append(("tokenizer.ggml.\(name)_token_id", .uint32(UInt32(id)))) }
        }
        if let addBOS = config["add_bos_token"] as? Bool ?? addsBOS(json["post_processor"], bos: specials[0].1, ids: ids) {
            entries.append(("tokenizer.ggml.add_bos_token", .bool(addBOS)))
        }
        if let addEOS = config["add_eos_token"] as? Bool { entries.append(("tokenizer.ggml.add_eos_token", .bool(addEOS))) }
        if let addSpace = config["add_prefix_space"] as? Bool {
            entries.append(("tokenizer.ggml.add_space_prefix", .bool(addSpace)))
        }
        if let template = try chatTemplate(config, file: files.tokenizerConfig) {
            entries.append(("tokenizer.chat_template", .string(template)))
        }
        return entries
    }

    /// Merges as GGUF's "left right" strings. Since transformers 4.45 tokenizer.json may
    /// store pairs as arrays so that parts can contain spaces; like llama.cpp we then
    /// write a space inside a part as U+0120, the byte-level encoding of a space.
    static func mergeStrings(_ value: Any?, file: String) throws(CheckpointFileError) -> [String] {
        guard let list = value as? [Any] else {
            throw .invalidTokenizer(file: file, reason: "model.merges is missing or not an array")
        }
        var merges: [String] = []
        merges.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            if let text = item as? String {
                merges.append(text)
            } else if let pair = item as? [Any], pair.count == 2, let left = pair[0] as? String, let right = pair[1] as? String {
                func escaped(_ part: String) -> String { part.replacingOccurrences(of: " ", with: "\u{120}") }
                merges.append(escaped(left) + " " + escaped(right))
            } else {
                throw .invalidTokenizer(file: file, reason: "model.merges[\(index)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        return merges
    }

    /// llama.cpp names the pre-tokenizer by hashing the tokenization of a check string
    /// with the Python tokenizer; without Python we recognise the JSON description.
    static func preTokenizerName(_ value: Any?, config: [String: Any], file: String) throws(CheckpointFileError) -> String {
        let steps: [[String: Any]]
        if let object = value as? [String: Any] {
            steps = object["type"] as? String == "Sequence" ? (object["pretokenizers"] as? [Any] ?? []).compactMap { $0 as? [String: Any] } : [object]
        } else {
            steps = []
        }
        let kinds = steps.map { $0["type"] as? String ?? "?" }
        func splitRegex(_ step: [String: Any]) -> String? {
            (step["pattern"] as? [String: Any])?["Regex"] as? String
        }
        func byteLevel(usesRegex: Bool) -> Bool {
            guard let last = steps.last, last["type"] as? String == "ByteLevel" else { return false }
            return (last["use_regex"] as? Bool ?? true) == usesRegex
        }
        if kinds == ["ByteLevel"], byteLevel(usesRegex: true) { return "gpt2" }
        if kinds == ["Split", "ByteLevel"], byteLevel(usesRegex: false) {
            switch splitRegex(steps[0]) {
            case llama3Regex?: return "llama-bpe"
            case gpt2Regex?: return "gpt2"
            default: break
            }
        }
        if kinds == ["Digits", "ByteLevel"], steps[0]["individual_digits"] as? Bool == true, byteLevel(usesRegex: true) {
            // SmolLM and StarCoder split alike and differ only in decoding: StarCoder cleans
            // spaces around punctuation (clean_up_tokenization_spaces), SmolLM does not.
            return config["clean_up_tokenization_spaces"] as? Bool == true ? "starcoder" : "smollm"
        }
        let regexes = steps.compactMap(splitRegex)
        let shown = kinds.isEmpty ? "none" : kinds.joined(separator: " + ")
        throw .unsupportedPreTokenizer(file: file, description: "steps \(shown)"
            + (regexes.isEmpty ? "" : "; regex " + regexes.map { "\"\($0)\"" }.joined(separator: ", ")))
    }

    /// What the post-processor says about a leading BOS, when it says anything.
    private static func addsBOS(_ value: Any?, bos: Int?, ids: [String: Int]) -> Bool? {
        guard let object = value as? [String: Any] else { return nil }
        let processors = object["type"] as? String == "Sequence"
            ? (object["processors"] as? [Any] ?? []).compactMap { $0 as? [String: Any] } : [object]
        var result: Bool?
        for processor in processors {
            switch processor["type"] as? String {
            case "ByteLevel": result = result ?? false
            case "TemplateProcessing":
                let single = processor["single"] as? [Any] ?? []
                let first = ((single.first as? [String: Any])?["SpecialToken"] as? [String: Any])?["id"] as? String
                result = first.flatMap { ids[$0] }.map { $0 == bos } ?? false
            default: break
            }
        }
        return result
    }

    /// tokenizer_config.json writes special tokens as a string or as an AddedToken object.
    private static func tokenText(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        return (value as? [String: Any])?["content"] as? String
    }

    /// `chat_template` is a string, or a list of named templates of which "default" is used.
    private static func chatTemplate(_ config: [String: Any], file: String) throws(CheckpointFileError) -> String? {
        guard let value = config["chat_template"] else { return nil }
        if let text = value as? String { return text }
        if let list = value as? [Any] {
            for case let entry as [String: Any] in list where entry["name"] as? String == "default" {
                if let text = entry["template"] as? String { return text }
            }
            return nil
        }
        throw .invalidTokenizer(file: file, reason: "chat_template is neither a string nor a list of named templates")
    }

    private static func jsonObject(_ path: String, required: Bool) throws(CheckpointFileError) -> [String: Any]? {
        guard required || FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try HFConfiguration.readFile(path)
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CheckpointFileError.invalidJSON(file: path, reason: "top level is not an object")
            }
            return object
        } catch let error as CheckpointFileError {
            throw error
        } catch {
            throw .invalidJSON(file: path, reason: (error as NSError).localizedDescription)
        }
    }
}
