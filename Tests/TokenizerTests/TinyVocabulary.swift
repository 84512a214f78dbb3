import ModelFiles

/// Hand-made SentencePiece metadata small enough to work merges out by hand:
/// ids 0-2 <unk> <s> </s>, 3...258 the byte tokens <0x00>...<0xFF>, then a few pieces.
enum TinyVocabulary {
    static let pieces: [(String, Float)] = [("▁", -3), ("a", -4), ("b", -4), ("▁a", -1), ("ab", -2), ("▁ab", -0.5), ("<|user|>", 0)]
    static func id(_ piece: String) -> Int32 { Int32(259 + pieces.firstIndex { $0.0 == piece }!) }

    static var tokens: [String] {
        ["<unk>", "<s>", "</s>"] + (0..<256).map { "<0x" + ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) + ">" }
            + pieces.map(\.0)
    }

    static func entries(model: String = "llama", dropping: Set<String> = [],
                        overriding: [String: GGUFValue] = [:]) -> [(key: String, value: GGUFValue)] {
        let types: [Int32] = [2, 3, 3] + [Int32](repeating: 6, count: 256) + pieces.map { $0.0 == "<|user|>" ? 4 : 1 }
        var entries: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string("llama")),
            ("tokenizer.ggml.model", .string(model)),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(([0, 0, 0] + [Float](repeating: 0, count: 256) + pieces.map(\.1)).map { .float32($0) })),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
        ]
        entries.removeAll { dropping.contains($0.key) }
        for (key, value) in overriding {
            entries.removeAll { $0.key == key }
            entries.append((key, value))
        }
        return entries
    }

    static func metadata(model: String = "llama", dropping: Set<String> = [],
                         overriding: [String: GGUFValue] = [:]) throws -> GGUFMetadata {
        try GGUFMetadata(entries(model: model, dropping: dropping, overriding: overriding))
    }
}
