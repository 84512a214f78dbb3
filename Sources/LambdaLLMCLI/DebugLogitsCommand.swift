import ArgumentParser
import Foundation
import Generation

/// For reference checks: logits at chosen positions of a token sequence, and
/// its greedy continuation, as JSON.
struct DebugLogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-logits",
        abstract: "Print logits at given positions and a greedy continuation as JSON (for testing).",
        shouldDisplay: false
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Comma-separated token ids.")
    var tokens: String
    @Option(help: "Comma-separated positions whose logits to print.")
    var positions: String = ""
    @Option(help: "Greedy tokens to generate after the sequence.")
    var greedy: Int = 0

    func run() throws {
        let ids = try parseList(tokens, "--tokens").map { Int32($0) }
        let wanted = Set(try parseList(positions, "--positions"))
        let loaded = try modelOptions.load()
        let generator = try modelOptions.makeGenerator(loaded, context: min(loaded.model.configuration.contextLength, ids.count + greedy + 1))
        var logits: [String: [Float]] = [:]
        try generator.session.evaluateAll(ids) { position, row in
            if wanted.contains(position) { logits[String(position)] = Array(row) }
        }
        var continuation: [Int32] = []
        if greedy > 0 {
            generator.reset()
            let result = try generator.generate(GenerationRequest(
                promptTokens: ids, maxTokens: greedy,
                sampling: SamplingParameters(temperature: 0), ignoreEndOfGeneration: true
            ))
            continuation = result.tokens
        }
        struct Output: Encodable { var logits: [String: [Float]]; var greedy: [Int32] }
        let data = try JSONEncoder().encode(Output(logits: logits, greedy: continuation))
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    private func parseList(_ text: String, _ flag: String) throws -> [Int] {
        try text.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("\(flag): '\($0)' is not an integer")
            }
            return v
        }
    }
}
