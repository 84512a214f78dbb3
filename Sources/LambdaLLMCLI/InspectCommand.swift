import ArgumentParser
import Convert
import Engine
import Foundation
import ModelFiles

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a GGUF file: architecture, shapes, tensor types, size, tokenizer."
    )

    @Argument(help: "Path to a GGUF file.")
    var path: String
    @Flag(help: "List every tensor with its type and shape.")
    var tensors = false

    func run() throws {
        let file = try GGUFFile(path: path)
        let meta = file.metadata
        var lines: [String] = []
        lines.append("file:          \(path)")
        lines.append("size:          \(ByteFormat.describe(file.fileSize))")
        lines.append("gguf version:  \(file.version), alignment \(file.alignment)")
        if let name = meta.string("general.name") { lines.append("name:          \(name)") }
        if meta.bool(HFCheckpointSource.syntheticKey) == true {
            lines.append("weights:       synthetic weights: accuracy not meaningful")
        }
        lines.append("architecture:  \(file.architecture ?? "(none)")")
        if !file.tensors.isEmpty {
            do {
                let c = try LlamaConfiguration(
                    metadata: meta,
                    embeddingRows: file.tensor(named: "token_embd.weight").map { $0.shape.count > 1 ? $0.shape[1] : 1 }
                )
                lines.append("shape:         dim \(c.embeddingLength), \(c.layerCount) layers, \(c.headCount) heads, \(c.kvHeadCount) KV heads, FFN \(c.feedForwardLength), vocab \(c.vocabularySize)")
                lines.append("context:       \(c.contextLength) tokens, RoPE base \(c.ropeFreqBase), RMS eps \(c.rmsNormEpsilon)")
            } catch {
                lines.append("shape:         not runnable here: \(error)")
            }
            let parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
            lines.append("parameters:    \(String(format: "%.1f", Double(parameters) / 1e6)) M in \(file.tensors.count) tensors")
            var counts: [String: (Int, Int)] = [:]
            for t in file.tensors {
                let entry = counts[t.type.description, default: (0, 0)]
                counts[t.type.description] = (entry.0 + 1, entry.1 + t.byteCount)
            }
            let types = counts.sorted { $0.value.1 > $1.value.1 }
                .map { "\($0.key) x\($0.value.0) (\(ByteFormat.describe($0.value.1)))" }
            lines.append("tensor types:  " + types.joined(separator: ", "))
        } else {
            lines.append("tensors:       none (vocabulary-only file)")
        }
        let model = meta.string("tokenizer.ggml.model") ?? "(none)"
        let pre = meta.string("tokenizer.ggml.pre").map { ", pre-tokenizer \($0)" } ?? ""
        let vocab = meta.strings("tokenizer.ggml.tokens")?.count ?? 0
        lines.append("tokenizer:     \(model)\(pre), \(vocab) tokens, bos \(meta.int("tokenizer.ggml.bos_token_id").map(String.init) ?? "-"), eos \(meta.int("tokenizer.ggml.eos_token_id").map(String.init) ?? "-")")
        lines.append("chat template: \(meta.string("tokenizer.chat_template") == nil ? "none" : "present")")
        print(lines.joined(separator: "\n"))
        if tensors {
            for t in file.tensors {
                print(String(format: "  %-36@ %-5@ %@", t.name as NSString, t.type.description as NSString, "\(t.shape)" as NSString))
            }
        }
    }
}

enum ByteFormat {
    static func describe(_ bytes: Int) -> String {
        let b = Double(bytes)
        if b >= 1e9 { return String(format: "%.2f GB", b / 1e9) }
        if b >= 1e6 { return String(format: "%.1f MB", b / 1e6) }
        if b >= 1e3 { return String(format: "%.1f KB", b / 1e3) }
        return "\(bytes) B"
    }
}
