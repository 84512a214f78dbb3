import Convert
import Foundation
import ModelFiles
import Tokenizer

/// Arbitrary bytes through both tokenizer kinds the engine runs: SmolLM2's byte-level
/// BPE and a SentencePiece vocabulary (Mistral's, with byte fallback). The first byte
/// picks the tokenizer and the mode: text in (encode, then decode must give the text
/// back where the format promises it), or ids in (decode and the streaming decoder
/// must take any id, in range or not).
struct TokenizerFuzzTarget: FuzzTarget {
    static let name = "tokenizer"
    static let summary = "byte-level BPE and SentencePiece encode/decode, streaming decode"

    private let bytePair: any Tokenizer
    private let sentencePiece: any Tokenizer
    /// Bytes the BPE vocabulary has a token of their own for. SmolLM2's lacks a few control
    /// bytes (0x04 among them): text holding one cannot round-trip, in llama.cpp either.
    private let bytePairBytes: Set<UInt8>

    init() throws {
        bytePair = try TokenizerLoader.load(from: GGUFFile(path: FuzzAssets.bytePairModel()))
        var single = Set<UInt8>()
        for id in 0..<Int32(bytePair.vocabularySize) {
            let piece = bytePair.tokenBytes(id)
            if piece.count == 1 { single.insert(piece[0]) }
        }
        bytePairBytes = single
        let directory = try FuzzAssets.scratchDirectory(Self.name)
        let model = (directory as NSString).appendingPathComponent("tokenizer.model")
        try? FileManager.default.removeItem(atPath: model)
        try FileManager.default.copyItem(atPath: FuzzAssets.sentencePieceModel(), toPath: model)
        let config = #"""
        {"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128, "rms_norm_eps": 1e-5,
         "vocab_size": 32000, "max_position_embeddings": 256, "bos_token_id": 1, "eos_token_id": 2}
        """#
        let configuration = try HFConfiguration.decode(Data(config.utf8))
        let entries = try HFTokenizerImport.metadata(directory: directory, configuration: configuration)
        sentencePiece = try TokenizerLoader.load(from: GGUFMetadata(entries.map { (key: $0.0, value: $0.1) }))
    }

    func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        let isBytePair = selector & 1 == 0
        let tokenizer = isBytePair ? bytePair : sentencePiece
        if selector & 2 == 0 {
            text(rest, tokenizer, isBytePair: isBytePair, parseSpecial: selector & 4 != 0)
        } else {
            ids(rest, tokenizer)
        }
    }

    private func text(_ bytes: [UInt8], _ tokenizer: any Tokenizer, isBytePair: Bool, parseSpecial: Bool) {
        let text = String(decoding: bytes, as: UTF8.self)
        let withSpecial = tokenizer.encode(text, addSpecial: true, parseSpecial: parseSpecial)
        for id in withSpecial {
            fuzzInvariant(id >= 0 && Int(id) < tokenizer.vocabularySize, "encode gave id \(id) outside the vocabulary")
        }
        _ = tokenizer.decode(withSpecial, skipSpecial: !parseSpecial)
        guard !parseSpecial else { return }
        // Without BOS (whose removal changes llama.cpp's leading-space rule): byte-level BPE
        // is lossless for text whose every byte has a token; SentencePiece is for text without its own space marker
        // U+2581, which decodes to a space by design.
        let ids = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        if isBytePair {
            guard text.utf8.allSatisfy(bytePairBytes.contains) else { return }
            let pieces = ids.flatMap { tokenizer.tokenBytes($0) }
            fuzzInvariant(pieces == Array(text.utf8), "BPE round trip: \(text.debugDescription) gave ids \(ids), bytes \(pieces)")
        } else if !text.contains("\u{2581}") {
            let decoded = tokenizer.decode(ids, skipSpecial: true)
            fuzzInvariant(decoded == text, "SentencePiece round trip: \(text.debugDescription) came back as \(decoded.debugDescription)")
        }
    }

    private func ids(_ bytes: [UInt8], _ tokenizer: any Tokenizer) {
        var ids: [Int32] = []
        ids.reserveCapacity(bytes.count / 2)
        var index = 0
        while index + 1 < bytes.count {
            // Mostly in-range ids (two bytes), with the high bit of the first byte
            // turning some into large or negative ones.
            var id = Int32(bytes[index]) << 8 | Int32(bytes[index + 1])
            if bytes[index] & 0x80 != 0 { id = id &* 65_537 &- 40_000_000 }
            ids.append(id)
            index += 2
        }
        _ = tokenizer.decode(ids, skipSpecial: false)
        _ = tokenizer.decode(ids, skipSpecial: true)
        var streaming = StreamingDecoder(tokenizer: tokenizer)
        var streamed = ""
        for id in ids { streamed += streaming.append(id) }
        streamed += streaming.flush()
        for id in ids { _ = tokenizer.isEndOfGeneration(id) }
    }
}
