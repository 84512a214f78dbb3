import Foundation

/// Everything one `study` run measured and concluded: the source of results.json,
/// results.csv, report.md and the charts. Figures are raw (bytes, seconds, tokens/s);
/// formatting belongs to the renderers.
public struct StudyResults: Codable, Sendable, Equatable {
    public var schemaVersion = 1
    /// ISO 8601, UTC.
    public var createdAt: String
    public var machine: MachineDescription
    public var settings: StudySettings
    public var source: SourceDescription
    public var variants: [VariantResult]
    /// The computed one-paragraph conclusion (StudyConclusion).
    public var conclusion: String

    public init(createdAt: String, machine: MachineDescription, settings: StudySettings,
                source: SourceDescription, variants: [VariantResult], conclusion: String = "") {
        self.createdAt = createdAt
        self.machine = machine
        self.settings = settings
        self.source = source
        self.variants = variants
        self.conclusion = conclusion
    }
}

public struct MachineDescription: Codable, Sendable, Equatable {
    public var cpuModel: String
    public var cores: Int
    public var memoryBytes: Int64
    public var operatingSystem: String
    public var architecture: String
    /// The kernel path the engine chose (generic, avx2, avx512, avx512vnni).
    public var kernelISA: String
    /// `git rev-parse --short HEAD` of the tool's checkout, when known.
    public var commit: String?

    public init(cpuModel: String, cores: Int, memoryBytes: Int64, operatingSystem: String,
                architecture: String, kernelISA: String, commit: String?) {
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.operatingSystem = operatingSystem
        self.architecture = architecture
        self.kernelISA = kernelISA
        self.commit = commit
    }
}

public struct StudySettings: Codable, Sendable, Equatable {
    public var types: [String]
    public var threadCounts: [Int]
    public var promptTokens: Int
    public var genTokens: Int
    /// Timed runs per child (after one warm-up); medians are reported.
    public var repetitions: Int
    public var corpus: String?
    /// Corpus tokens scored for perplexity and divergence.
    public var evalTokens: Int
    /// Assumed S3 download throughput for the cold-start estimate, megabytes (2^20 bytes) per second.
    public var s3MegabytesPerSecond: Double
    /// A memory setting the user asked the verdict to evaluate, besides the smallest that fits.
    public var lambdaMemoryMB: Int?

    public init(types: [String], threadCounts: [Int], promptTokens: Int, genTokens: Int, repetitions: Int,
                corpus: String?, evalTokens: Int, s3MegabytesPerSecond: Double, lambdaMemoryMB: Int?) {
        self.types = types
        self.threadCounts = threadCounts
        self.promptTokens = promptTokens
        self.genTokens = genTokens
        self.repetitions = repetitions
        self.corpus = corpus
        self.evalTokens = evalTokens
        self.s3MegabytesPerSecond = s3MegabytesPerSecond
        self.lambdaMemoryMB = lambdaMemoryMB
    }
}

public struct SourceDescription: Codable, Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    /// e.g. "GGUF, Q4_1" or "Hugging Face safetensors, F16".
    public var format: String
    /// Synthetic weights: sizes, memory and speed are real, accuracy means nothing.
    public var synthetic: Bool
    /// Caveats every report repeats (e.g. "its F16 is a dequantisation of Q4_1").
    public var notes: [String]

    public init(path: String, bytes: Int64, format: String, synthetic: Bool, notes: [String]) {
        self.path = path
        self.bytes = bytes
        self.format = format
        self.synthetic = synthetic
        self.notes = notes
    }
}

/// One quantization type: its file, its measured runs and its Lambda verdict.
public struct VariantResult: Codable, Sendable, Equatable {
    /// `--type` name: f32, f16, bf16, int8, int4-sym, int4-asym.
    public var type: String
    /// The seed study's name for it: FP16, INT8, INT4-sym, INT4-asym.
    public var studyName: String
    public var file: String
    public var fileBytes: Int64
    /// nil when an earlier conversion with the same key was reused.
    public var conversionSeconds: Double?
    /// One fresh child process per thread count.
    public var runs: [ThreadRun]
    public var accuracy: AccuracyResult?
    public var verdict: LambdaVerdict?

    public init(type: String, studyName: String, file: String, fileBytes: Int64, conversionSeconds: Double?,
                runs: [ThreadRun], accuracy: AccuracyResult?, verdict: LambdaVerdict?) {
        self.type = type
        self.studyName = studyName
        self.file = file
        self.fileBytes = fileBytes
        self.conversionSeconds = conversionSeconds
        self.runs = runs
        self.accuracy = accuracy
        self.verdict = verdict
    }

    /// The run with the most threads: the one the tables show.
    public var headlineRun: ThreadRun? { runs.max { $0.threads < $1.threads } }
    /// Peak RSS over all of this variant's children.
    public var peakRSSBytes: Int64 { runs.map(\.peakRSSBytes).max() ?? 0 }
}

/// One child process: load, one warm-up request, `repetitions` timed requests.
public struct ThreadRun: Codable, Sendable, Equatable {
    public var threads: Int
    public var loadSeconds: Double
    public var timeToFirstTokenSeconds: Double
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    /// [min, max] of decode tokens/s over the timed requests.
    public var decodeTokensPerSecondSpread: [Double]
    /// One standard request: prefill of the prompt plus all generated tokens.
    public var requestSeconds: Double
    /// The child's maximum resident set size, from wait4.
    public var peakRSSBytes: Int64

    public init(threads: Int, loadSeconds: Double, timeToFirstTokenSeconds: Double, prefillTokensPerSecond: Double,
                decodeTokensPerSecond: Double, decodeTokensPerSecondSpread: [Double], requestSeconds: Double,
                peakRSSBytes: Int64) {
        self.threads = threads
        self.loadSeconds = loadSeconds
        self.timeToFirstTokenSeconds = timeToFirstTokenSeconds
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.decodeTokensPerSecondSpread = decodeTokensPerSecondSpread
        self.requestSeconds = requestSeconds
        self.peakRSSBytes = peakRSSBytes
    }
}

public struct AccuracyResult: Codable, Sendable, Equatable {
    /// Corpus tokens scored.
    public var tokens: Int
    public var perplexity: Double
    /// Type of the variant the divergence is measured against (the highest precision).
    public var reference: String
    /// Mean KL(reference || this) of next-token distributions, nats; 0 for the reference.
    public var meanKLDivergence: Double
    /// Fraction of positions where both pick the same most likely token.
    public var top1Agreement: Double
    /// false for synthetic weights: the figures are computed but mean nothing.
    public var meaningful: Bool

    public init(tokens: Int, perplexity: Double, reference: String, meanKLDivergence: Double,
                top1Agreement: Double, meaningful: Bool) {
        self.tokens = tokens
        self.perplexity = perplexity
        self.reference = reference
        self.meanKLDivergence = meanKLDivergence
        self.top1Agreement = top1Agreement
        self.meaningful = meaningful
    }
}

/// What AWS Lambda makes of one variant (LambdaPlanner computes it from the
/// measured figures and the LambdaLimits table). Memory sizes are Lambda's
/// "MB", which are mebibytes.
public struct LambdaVerdict: Codable, Sendable, Equatable {
    /// The model file fits the largest /tmp (ephemeral storage) setting.
    public var fitsEphemeralStorage: Bool
    /// Smallest ephemeral-storage setting that holds the file; nil when none does.
    public var ephemeralStorageMB: Int?
    /// Smallest memory setting holding peak RSS plus the margin; nil when none does.
    public var memoryMB: Int?
    /// How the margin was added, e.g. "peak RSS x 1.10 + 64 MB".
    public var memoryMargin: String
    /// vCPU share at `memoryMB` (memory / 1,769 MB, at most 6) and the cores a function sees there.
    public var vcpusAtMemory: Double?
    public var visibleCoresAtMemory: Int?
    public var decodeTokensPerSecondAtMemory: Double?
    public var requestSecondsAtMemory: Double?
    /// The same at 10,240 MB (the largest setting: 10,240 / 1,769 = 5.8 vCPUs of credit, 6 visible cores).
    public var decodeTokensPerSecondAtMaximum: Double?
    public var requestSecondsAtMaximum: Double?
    /// How 1- and 2-thread measurements were projected to other vCPU counts.
    public var scalingModel: String
    /// The standard request finishes within the 900 s timeout at `memoryMB`.
    public var fitsTimeout: Bool
    /// S3 model source: download at the assumed throughput, then load.
    public var downloadSeconds: Double
    public var coldStartS3Seconds: Double
    /// Container-image model source: load from the image (no download step).
    public var coldStartImageSeconds: Double
    /// Init (cold start with S3) within the 10 s init phase.
    public var initWithinLimit: Bool
    /// USD per 1,000 standard requests at `memoryMB`, compute plus request fee.
    public var costPer1000RequestsX86: Double?
    public var costPer1000RequestsArm64: Double?
    /// Model file plus runtime, as a container image; under the 10 GB limit?
    public var containerImageBytes: Int64
    public var fitsContainerImage: Bool
    /// Model file plus runtime inside a zip package's 250 MB unzipped limit?
    public var fitsZip: Bool
    /// Runs on Lambda at all: memory, storage and timeout all fit.
    public var deployable: Bool
    /// One line, e.g. "fits: 512 MB memory, 1 GB /tmp, 2.1 s per request".
    public var summary: String

    public init(fitsEphemeralStorage: Bool, ephemeralStorageMB: Int?, memoryMB: Int?, memoryMargin: String,
                vcpusAtMemory: Double?, visibleCoresAtMemory: Int?, decodeTokensPerSecondAtMemory: Double?,
                requestSecondsAtMemory: Double?, decodeTokensPerSecondAtMaximum: Double?,
                requestSecondsAtMaximum: Double?, scalingModel: String, fitsTimeout: Bool, downloadSeconds: Double,
                coldStartS3Seconds: Double, coldStartImageSeconds: Double, initWithinLimit: Bool,
                costPer1000RequestsX86: Double?, costPer1000RequestsArm64: Double?, containerImageBytes: Int64,
                fitsContainerImage: Bool, fitsZip: Bool, deployable: Bool, summary: String) {
        self.fitsEphemeralStorage = fitsEphemeralStorage
        self.ephemeralStorageMB = ephemeralStorageMB
        self.memoryMB = memoryMB
        self.memoryMargin = memoryMargin
        self.vcpusAtMemory = vcpusAtMemory
        self.visibleCoresAtMemory = visibleCoresAtMemory
        self.decodeTokensPerSecondAtMemory = decodeTokensPerSecondAtMemory
        self.requestSecondsAtMemory = requestSecondsAtMemory
        self.decodeTokensPerSecondAtMaximum = decodeTokensPerSecondAtMaximum
        self.requestSecondsAtMaximum = requestSecondsAtMaximum
        self.scalingModel = scalingModel
        self.fitsTimeout = fitsTimeout
        self.downloadSeconds = downloadSeconds
        self.coldStartS3Seconds = coldStartS3Seconds
        self.coldStartImageSeconds = coldStartImageSeconds
        self.initWithinLimit = initWithinLimit
        self.costPer1000RequestsX86 = costPer1000RequestsX86
        self.costPer1000RequestsArm64 = costPer1000RequestsArm64
        self.containerImageBytes = containerImageBytes
        self.fitsContainerImage = fitsContainerImage
        self.fitsZip = fitsZip
        self.deployable = deployable
        self.summary = summary
    }
}
