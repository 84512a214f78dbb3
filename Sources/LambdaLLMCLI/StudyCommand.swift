import ArgumentParser
import Deploy
import Foundation
import ModelFiles
import Study

/// The main job: every variant converted, measured in fresh child processes, judged
/// against Lambda's limits, and written up as tables, CSV, JSON and charts.
struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Convert a model to each type, measure size, peak memory, speed and accuracy, and judge it against AWS Lambda's limits.",
        discussion: """
        Each variant is measured in fresh child processes (`bench` per thread count, peak RSS from wait4), \
        accuracy in one `evaluate` child against the highest-precision variant. Conversions are kept in \
        --models-dir and reused when the source and type match. Synthetic presets measure size, memory \
        and speed at real shapes; their accuracy is not meaningful and is not measured unless --eval-tokens is given.
        """
    )

    @Option(help: "Source: a GGUF file or a Hugging Face model directory.")
    var model: String?
    @Option(help: "Instead of --model: a synthesize preset (e.g. llama-2-7b, smollm2-135m, tiny).")
    var synthetic: String?
    @Option(help: "Comma-separated types to study.")
    var types = "f16,int8,int4-sym,int4-asym"
    @Flag(name: .customLong("all-layers"), help: "Quantize embeddings and output head too (default: they stay 8-bit).")
    var allLayers = false
    @Option(help: "Text for perplexity (default: Pride and Prejudice from the asset cache).")
    var corpus: String?
    @Option(help: "Corpus tokens to score (default 1024; 0 for synthetic models, whose accuracy means nothing).")
    var evalTokens: Int?
    @Option(name: .customLong("out"), help: "Directory for report.md, results.json, results.csv and the charts.")
    var out = "study-out"
    @Option(name: .customLong("models-dir"), help: "Where converted variants are kept and reused (default: OUT/models).")
    var modelsDir: String?
    @Option(help: "Measure with 1 thread and with this many (default: min(2, cores)).")
    var threads: Int?
    @Option(name: .customLong("prompt-tokens"), help: "Prompt of the standard request, in tokens of real text.")
    var promptTokens = 128
    @Option(name: .customLong("gen-tokens"), help: "Tokens the standard request generates (greedy, end-of-generation ignored).")
    var genTokens = 128
    @Option(help: "Timed requests per child after one warm-up; the median is reported (default 3; 1 for synthetic 7B-scale presets).")
    var repetitions: Int?
    @Option(name: .customLong("lambda-memory"), help: "Also judge at this Lambda memory setting, MB (128 to 10240).")
    var lambdaMemory: Int?
    @Option(name: .customLong("s3-mbps"), help: "Assumed S3 download speed for the cold-start estimate, in megabytes per second.")
    var s3Mbps = 100.0

    static let knownTypes = ["f32", "f16", "bf16", "int8", "int4-sym", "int4-asym"]

    var typeList: [String] { types.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        if (model == nil) == (synthetic == nil) { throw ValidationError("give exactly one of --model SOURCE or --synthetic PRESET") }
        let list = typeList
        if list.isEmpty { throw ValidationError("--types is empty; choose from \(Self.knownTypes.joined(separator: ","))") }
        for t in list where !Self.knownTypes.contains(t) {
            throw ValidationError("unknown type '\(t)' in --types; choose from \(Self.knownTypes.joined(separator: ","))")
        }
        if Set(list).count != list.count { throw ValidationError("--types lists a type twice") }
        if let threads, !(1...256).contains(threads) { throw ValidationError("--threads must be between 1 and 256") }
        if promptTokens < 1 || genTokens < 1 { throw ValidationError("--prompt-tokens and --gen-tokens must be at least 1") }
        if let repetitions, !(1...100).contains(repetitions) { throw ValidationError("--repetitions must be between 1 and 100") }
        if let evalTokens, evalTokens < 0 { throw ValidationError("--eval-tokens must be 0 or more") }
        if let lambdaMemory, !(128...10240).contains(lambdaMemory) {
            throw ValidationError("--lambda-memory must be between 128 and 10240 MB (Lambda's range), got \(lambdaMemory)")
        }
        if !(s3Mbps > 0) { throw ValidationError("--s3-mbps must be positive") }
    }

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let maxThreads = threads ?? min(2, cores)
        let threadCounts = maxThreads > 1 ? [1, maxThreads] : [1]
        let source: StudyRunner.Source = model.map { .model($0) } ?? .synthetic(synthetic ?? "")
        let large = synthetic.map { !["tiny", "smollm2-135m"].contains($0) } ?? false
        var config = StudyRunner.Configuration(
            source: source, types: typeList, outputDirectory: out,
            modelsDirectory: modelsDir ?? (out as NSString).appendingPathComponent("models"),
            threadCounts: threadCounts, executable: ChildProcess.currentExecutable()
        )
        config.allLayers = allLayers
        config.promptTokens = promptTokens
        config.genTokens = genTokens
        config.repetitions = repetitions ?? (large ? 1 : 3)
        config.evalTokens = evalTokens ?? (synthetic == nil ? 1024 : 0)
        config.s3MegabytesPerSecond = s3Mbps
        config.lambdaMemoryMB = lambdaMemory
        // The zip and image verdicts count this binary as `package` advises shipping it,
        // stripped, where that size means something (else as its whole file).
        config.deployedExecutableBytes = { [executable = config.executable] in
            (try? ELFFile.read(path: executable)).flatMap(RuntimeBinaryCheck.strippedBytes(of:))
        }
        if config.evalTokens > 0 {
            let path = corpus ?? AssetCache.path("corpus/prideprejudice.txt")
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ValidationError("corpus \(path) not found: run scripts/setup-assets, pass --corpus FILE, or --eval-tokens 0 to skip accuracy")
            }
            config.corpus = path
        }

        let started = ContinuousClock.now
        let runner = StudyRunner(configuration: config) { line in
            let elapsed = (ContinuousClock.now - started) / .seconds(1)
            FileHandle.standardError.write(Data(String(format: "study [%5.0fs] %@\n", elapsed, line).utf8))
        }
        let results = try runner.run()
        let files = try runner.write(results)
        print(StudyReport.markdown(results))
        FileHandle.standardError.write(Data("study: wrote \(files.joined(separator: ", "))\n".utf8))
    }
}
