import ArgumentParser
import Foundation
import Generation
import Study

/// Accuracy of one or more variants against a reference on real text: the study runs
/// it in a child process, and people can run it by hand.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Perplexity on a text file, and KL divergence and top-1 agreement against a reference model."
    )

    @Option(help: "The reference GGUF (the highest-precision variant).")
    var reference: String
    @Option(name: .customLong("model"), help: "A GGUF to compare with the reference (repeatable).")
    var models: [String] = []
    @Option(help: "UTF-8 text to score.")
    var corpus: String
    @Option(help: "Tokens to score (whole windows; each window scores its second half).")
    var tokens: Int = 1024
    @Option(help: "Window length in tokens: the first half is context, the second half is scored.")
    var window: Int = 256
    @Option(help: "Worker threads (default: the number of cores).")
    var threads: Int?
    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if tokens < 1 { throw ValidationError("--tokens must be at least 1") }
        if window < 4 || window % 2 != 0 { throw ValidationError("--window must be an even number of at least 4") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let text: String
        do { text = try String(contentsOfFile: corpus, encoding: .utf8) } catch {
            throw ValidationError("cannot read the corpus \(corpus): \(error.localizedDescription)")
        }
        let referenceModel = try LoadedModel(path: reference, threads: threadCount)
        let candidates = try models.map { try LoadedModel(path: $0, threads: threadCount) }
        let vocabulary = referenceModel.model.configuration.vocabularySize
        for c in candidates where c.model.configuration.vocabularySize != vocabulary {
            throw ValidationError("\(c.path) has \(c.model.configuration.vocabularySize) tokens but the reference has \(vocabulary): they are not variants of one model")
        }
        let context = min(window, referenceModel.model.configuration.contextLength)
        let scoredPerWindow = context / 2
        let windows = (tokens + scoredPerWindow - 1) / scoredPerWindow
        // Tokenizing a whole novel takes seconds; a prefix with room to spare is enough.
        let ids = referenceModel.tokenizer.encode(String(text.prefix(windows * context * 8)))
        guard ids.count >= windows * context + 1 else {
            throw ValidationError("the corpus \(corpus) has \(ids.count) tokens; scoring \(tokens) needs at least \(windows * context + 1)")
        }

        let sessions = try ([referenceModel] + candidates).map { try $0.makeGenerator(context: context).session }
        var accumulators = Array(repeating: AccuracyAccumulator(), count: sessions.count)
        let referenceLogProbs = UnsafeMutableBufferPointer<Float>.allocate(capacity: scoredPerWindow * vocabulary)
        let scratch = UnsafeMutableBufferPointer<Float>.allocate(capacity: vocabulary)
        defer { referenceLogProbs.deallocate(); scratch.deallocate() }
        let started = ContinuousClock.now
        for w in 0..<windows {
            let chunk = Array(ids[(w * context)..<((w + 1) * context)])
            let following = ids[(w + 1) * context]
            for (m, session) in sessions.enumerated() {
                session.reset()
                try session.evaluateAll(chunk) { position, logits in
                    guard position >= context - scoredPerWindow else { return }
                    let row = position - (context - scoredPerWindow)
                    let next = Int(position + 1 < context ? chunk[position + 1] : following)
                    let reference = UnsafeMutableBufferPointer(rebasing: referenceLogProbs[(row * vocabulary)..<((row + 1) * vocabulary)])
                    if m == 0 {
                        AccuracyAccumulator.logSoftmax(logits, into: reference)
                        accumulators[0].add(reference: UnsafeBufferPointer(reference), candidate: UnsafeBufferPointer(reference), next: next)
                    } else {
                        AccuracyAccumulator.logSoftmax(logits, into: scratch)
                        accumulators[m].add(reference: UnsafeBufferPointer(reference), candidate: UnsafeBufferPointer(scratch), next: next)
                    }
                }
            }
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            FileHandle.standardError.write(Data(String(format: "evaluate: window %d/%d (%.0f s)\n", w + 1, windows, elapsed).utf8))
        }

        struct Row: Encodable { var model: String; var perplexity: Double; var meanKLDivergence: Double; var top1Agreement: Double }
        struct Output: Encodable { var tokens: Int; var window: Int; var reference: String; var results: [Row] }
        let rows = zip([reference] + models, accumulators).map {
            Row(model: $0, perplexity: $1.perplexity, meanKLDivergence: $1.meanKLDivergence, top1Agreement: $1.top1Agreement)
        }
        let output = Output(tokens: accumulators[0].tokens, window: context, reference: reference, results: rows)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print("scored \(output.tokens) tokens in windows of \(context) (second half of each scored)")
            for row in rows {
                print(String(format: "%@  perplexity %.4f  KL %.5f  top-1 %.2f%%", row.model, row.perplexity, row.meanKLDivergence, 100 * row.top1Agreement))
            }
        }
    }
}
