import Foundation
import Kernels
import ModelFiles

/// Why a synthetic model could not be written; names the file at fault and what to do.
public enum SynthesisError: Error, Equatable, Sendable, CustomStringConvertible {
    case vocabularyMissing(path: String)
    case vocabularyInvalid(path: String, reason: String)
    case vocabularySizeMismatch(path: String, found: Int, preset: String, expected: Int)
    case outputNotDirectory(path: String)
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .vocabularyMissing(let path):
            return "\(path): Llama-2 vocabulary not found; run scripts/setup-assets to cache it (or set LAMBDA_LLM_CACHE)"
        case .vocabularyInvalid(let path, let reason):
            return "\(path): not a usable SentencePiece vocabulary GGUF: \(reason)"
        case .vocabularySizeMismatch(let path, let found, let preset, let expected):
            return "\(path): holds \(found) tokens but preset \(preset) needs a vocabulary of \(expected)"
        case .outputNotDirectory(let path):
            return "\(path): exists and is not a directory; choose another output path"
        case .io(let path, let message):
            return "\(path): \(message)"
        }
    }
}

public struct SynthesisProgress: Sendable {
    public let bytesWritten: Int
    public let bytesTotal: Int
    public let tensorName: String
}

public struct SynthesisReport: Sendable {
    public let directory: String
    public let parameterCount: Int
    /// Size of model.safetensors.
    public let weightsBytes: Int
    public let seconds: Double
}

/// Writes a Hugging Face-layout Llama directory (config.json, model.safetensors
/// in F16, tokenizer.model, tokenizer_config.json, README.txt) with a preset's
/// exact shapes and pseudo-random weights, so size, memory and speed can be
/// measured at 7B scale without real weights. Accuracy means nothing.
///
/// Every row's values depend only on (seed, tensor name, row), never on the
/// thread count. Weights stream to disk in row batches: memory stays a few MB
/// whatever the model size.
public struct Synthesizer {
    public static let note = "synthetic weights: accuracy not meaningful"
    /// Llama's `initializer_range`.
    public static let weightStd: Float = 0.02
    public static let normStd: Float = 0.002

    public let preset: SynthesisPreset
    public let vocabularyGGUF: String
    public let seed: UInt64
    public let threads: Int

    public init(preset: SynthesisPreset, vocabularyGGUF: String, seed: UInt64 = 0, threads: Int) {
        self.preset = preset
        self.vocabularyGGUF = vocabularyGGUF
        self.seed = seed
        self.threads = max(1, threads)
    }

    /// `$LAMBDA_LLM_CACHE` (or `$XDG_CACHE_HOME/lambda-llm`, or `~/.cache/lambda-llm`) + `/vocab/ggml-vocab-llama-spm.gguf`.
    public static func defaultVocabularyPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        AssetCache.path("vocab/ggml-vocab-llama-spm.gguf", environment: environment)
    }

    /// Writes the model into `directory` (created if needed; existing files of the same names are replaced).
    /// `progress` is called on the calling thread after each batch of weights.
    public func synthesize(to directory: String, progress: (SynthesisProgress) -> Void = { _ in }) throws -> SynthesisReport {
        let started = Date()
        let pieces = try Self.readVocabulary(vocabularyGGUF)
        guard pieces.count == preset.vocabSize else {
            throw SynthesisError.vocabularySizeMismatch(path: vocabularyGGUF, found: pieces.count,
                                                        preset: preset.name, expected: preset.vocabSize)
        }
        try Self.makeDirectory(directory)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

        try Self.writeFile(path("tokenizer.model"), SentencePieceModelWriter(pieces: pieces).serialized())
        try Self.writeFile(path("config.json"), Array(configJSON().utf8))
        try Self.writeFile(path("tokenizer_config.json"), Array(tokenizerConfigJSON(pieces: pieces).utf8))
        try Self.writeFile(path("README.txt"), Array(readme().utf8))

        let tensors = preset.tensors
        let total = tensors.reduce(0) { $0 + $1.shape.reduce(2, *) }
        let pool = ThreadPool(threads: threads)
        var done = 0
        // The writer holds the streaming closures, so it must not outlive this block.
        let headerSize = try withoutActuallyEscaping(progress) { progress in
            var writer = SafetensorsWriter(metadata: [("format", "pt"), ("lambda_llm_synthetic", "true")])
            for (name, shape) in tensors {
                try writer.addTensor(name: name, dtype: .f16, shape: shape) { sink in
                    try self.streamTensor(name: name, shape: shape, pool: pool, into: sink) { bytes in
                        done += bytes
                        progress(SynthesisProgress(bytesWritten: done, bytesTotal: total, tensorName: name))
                    }
                }
            }
            try writer.write(to: path(SafetensorsCheckpoint.singleFileName))
            return writer.headerBytes().count
        }
        return SynthesisReport(directory: directory, parameterCount: preset.parameterCount,
                               weightsBytes: headerSize + total,
                               seconds: Date().timeIntervalSince(started))
    }

    // MARK: - Weights

    /// Rows per work item and per write, sized so an item is ~256 KB of F16 and a batch ~4 MB.
    private static let itemBytes = 256 << 10
    private static let batchBytes = 4 << 20
    /// Elements generated per pass through the F32 scratch (on the stack, L1-resident).
    private static let chunk = 2048

    private func streamTensor(name: String, shape: [Int], pool: ThreadPool, into sink: GGUFDataSink,
                              advanced: (Int) -> Void) throws {
        let columns = shape.last ?? 1
        let rows = shape.count > 1 ? shape.dropLast().reduce(1, *) : 1
        let rowBytes = columns * 2
        let rowsPerItem = max(1, Self.itemBytes / rowBytes)
        let rowsPerBatch = max(rowsPerItem, Self.batchBytes / rowBytes / rowsPerItem * rowsPerItem)
        let isNorm = shape.count == 1
        let key = Self.mix(seed ^ Self.fnv1a(name))
        let batchCapacity = min(rows, rowsPerBatch) * rowBytes
        let buffers = (0..<2).map { _ in UnsafeMutableRawPointer.allocate(byteCount: batchCapacity, alignment: 64) }
        // Double buffering: a serial queue writes one batch while the pool fills the other,
        // so the write syscalls (about as costly as generating) overlap the generation.
        let write = BatchWrite(sink: sink)
        let queue = DispatchQueue(label: "lambda-llm.synthesize.write")
        let group = DispatchGroup()
        defer {
            group.wait()
            buffers.forEach { $0.deallocate() }
        }

        var row = 0
        var current = 0
        while row < rows {
            let batchRows = min(rowsPerBatch, rows - row)
            let items = (batchRows + rowsPerItem - 1) / rowsPerItem
            let firstRow = row
            let buffer = buffers[current]
            pool.parallelFor(items) { item in
                let start = item * rowsPerItem
                for r in start..<min(batchRows, start + rowsPerItem) {
                    Self.fillRow(key: key, row: firstRow + r, columns: columns, norm: isNorm,
                                 into: buffer + r * rowBytes)
                }
            }
            group.wait()
            if let error = write.error { throw error }
            write.pending = UnsafeRawBufferPointer(start: buffer, count: batchRows * rowBytes)
            queue.async(group: group) { write.run() }
            advanced(batchRows * rowBytes)
            row += batchRows
            current ^= 1
        }
        group.wait()
        if let error = write.error { throw error }
    }

    /// One row of F16 values: roughly normal (Irwin-Hall of four 16-bit uniforms,
    /// bounded at 3.5 sigma) with std 0.02, or 1 plus tiny noise for a norm.
    static func fillRow(key: UInt64, row: Int, columns: Int, norm: Bool, into destination: UnsafeMutableRawPointer) {
        let rowKey = mix(key &+ UInt64(row) &* 0xD1B5_4A32_D192_ED03)
        // Sum of four uniforms on 0...65535: mean 131070, std sqrt(4 * (65536^2 - 1) / 12).
        let sumStd: Float = 37837.23
        let scale = (norm ? normStd : weightStd) / sumStd
        let offset: Float = norm ? 1 : 0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { scratch in
            let values = scratch.baseAddress!
            var column = 0
            while column < columns {
                let n = min(chunk, columns - column)
                for i in 0..<n {
                    let z = mix(rowKey &+ UInt64(column + i + 1) &* 0x9E37_79B9_7F4A_7C15)
                    let sum = (z & 0xFFFF) + (z >> 16 & 0xFFFF) + (z >> 32 & 0xFFFF) + (z >> 48)
                    values[i] = (Float(Int32(truncatingIfNeeded: sum)) - 131070) * scale + offset
                }
                Quantize.row(.f16, values, destination + column * 2, count: n)
                column += n
            }
        }
    }

    /// SplitMix64's finalizer: a bijective 64-bit mix, so a counter becomes a random stream.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a: a stable name hash (Swift's Hasher is seeded per process).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    // MARK: - Vocabulary and side files

    /// The pieces of a llama.cpp SentencePiece vocabulary GGUF: tokens, scores and
    /// token types (ggml's type ids are SentencePiece's).
    static func readVocabulary(_ path: String) throws(SynthesisError) -> [SentencePieceModelProto.Piece] {
        guard FileManager.default.fileExists(atPath: path) else { throw .vocabularyMissing(path: path) }
        let file: GGUFFile
        let tokens: [String], scores: [Float], types: [Int]
        do {
            file = try GGUFFile(path: path)
            let model = try file.metadata.requireString("tokenizer.ggml.model")
            guard model == "llama" else {
                throw SynthesisError.vocabularyInvalid(path: path, reason: "tokenizer.ggml.model is \"\(model)\", not \"llama\" (SentencePiece)")
            }
            tokens = try file.metadata.requireStrings("tokenizer.ggml.tokens")
            scores = try file.metadata.requireFloats("tokenizer.ggml.scores")
            types = try file.metadata.requireInts("tokenizer.ggml.token_type")
        } catch let error as SynthesisError {
            throw error
        } catch {
            throw .vocabularyInvalid(path: path, reason: "\(error)")
        }
        guard scores.count == tokens.count, types.count == tokens.count else {
            throw .vocabularyInvalid(path: path, reason:
                "\(tokens.count) tokens but \(scores.count) scores and \(types.count) token types")
        }
        var pieces: [SentencePieceModelProto.Piece] = []
        pieces.reserveCapacity(tokens.count)
        for i in tokens.indices {
            guard let type = SentencePieceModelProto.PieceType(rawValue: types[i]) else {
                throw .vocabularyInvalid(path: path, reason: "token \(i) has type \(types[i]); expected 1...6")
            }
            pieces.append(.init(piece: tokens[i], score: scores[i], type: type))
        }
        guard pieces.count > 2 else { throw .vocabularyInvalid(path: path, reason: "fewer than 3 tokens (unk, bos, eos)") }
        return pieces
    }

    func configJSON() -> String {
        let p = preset
        let fields: [(String, String)] = [
            ("architectures", "[\"LlamaForCausalLM\"]"),
            ("model_type", "\"llama\""),
            ("hidden_size", "\(p.hiddenSize)"),
            ("intermediate_size", "\(p.intermediateSize)"),
            ("num_hidden_layers", "\(p.layers)"),
            ("num_attention_heads", "\(p.heads)"),
            ("num_key_value_heads", "\(p.kvHeads)"),
            ("vocab_size", "\(p.vocabSize)"),
            ("max_position_embeddings", "\(p.contextLength)"),
            ("rms_norm_eps", "\(p.rmsNormEps)"),
            ("rope_theta", "\(p.ropeTheta)"),
            ("rope_scaling", "null"),
            ("hidden_act", "\"silu\""),
            ("initializer_range", "0.02"),
            ("attention_bias", "false"),
            ("mlp_bias", "false"),
            ("pretraining_tp", "1"),
            ("tie_word_embeddings", "\(p.tieWordEmbeddings)"),
            ("torch_dtype", "\"float16\""),
            ("use_cache", "true"),
            ("bos_token_id", "1"),
            ("eos_token_id", "2"),
            ("lambda_llm_synthetic", "true"),
            ("lambda_llm_preset", Self.jsonString(p.name)),
            ("lambda_llm_seed", "\(seed)"),
            ("lambda_llm_note", Self.jsonString(Self.note + "; shapes of \(p.name) with the Llama-2 vocabulary")),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    func tokenizerConfigJSON(pieces: [SentencePieceModelProto.Piece]) -> String {
        let fields: [(String, String)] = [
            ("tokenizer_class", "\"LlamaTokenizer\""),
            ("add_bos_token", "true"),
            ("add_eos_token", "false"),
            ("unk_token", Self.jsonString(pieces[0].piece)),
            ("bos_token", Self.jsonString(pieces[1].piece)),
            ("eos_token", Self.jsonString(pieces[2].piece)),
            ("pad_token", "null"),
            ("model_max_length", "\(preset.contextLength)"),
            ("clean_up_tokenization_spaces", "false"),
            ("legacy", "true"),
        ]
        return "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    func readme() -> String {
        """
        \(Self.note).

        Written by `lambda-llm synthesize --preset \(preset.name) --seed \(seed)`: a Llama model with the
        exact shapes of \(preset.name) (\(preset.parameterCount) parameters, F16) and deterministic
        pseudo-random weights (normal-like, std \(Self.weightStd); norms near 1), with the real Llama-2
        SentencePiece vocabulary. Use it to measure file size, memory and speed only; any accuracy,
        perplexity or generated text from it means nothing.

        """
    }

    private static func jsonString(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    private static func makeDirectory(_ path: String) throws(SynthesisError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .outputNotDirectory(path: path) }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io(path: path, message: "cannot create directory: \(error.localizedDescription)")
        }
    }

    private static func writeFile(_ path: String, _ bytes: [UInt8]) throws(SynthesisError) {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .io(path: path, message: "cannot write: \(error.localizedDescription)")
        }
    }
}

/// One batch handed to the writer queue. The producer sets `pending` only after
/// the previous write finished (DispatchGroup.wait), and reads `error` only
/// after waiting too, so the two threads never touch it at the same time.
private final class BatchWrite: @unchecked Sendable {
    let sink: GGUFDataSink
    var pending = UnsafeRawBufferPointer(start: nil, count: 0)
    var error: (any Error)?

    init(sink: GGUFDataSink) { self.sink = sink }

    func run() {
        guard error == nil else { return }
        do { try sink.write(pending) } catch { self.error = error }
    }
}
