import Foundation
import LambdaLimits
import Study

/// Where the deployed function's model lives: baked into a container image, or
/// downloaded from S3 to /tmp by a zip-packaged function on provided.al2023.
public enum DeploymentSource: String, Sendable, CaseIterable, Codable {
    case image
    case s3
}

/// One number of the template and the sentence that says where it came from.
public struct SizingFigure: Sendable, Equatable {
    public var value: Int
    public var reason: String

    public init(value: Int, reason: String) {
        self.value = value
        self.reason = reason
    }
}

/// MemorySize, EphemeralStorage and Timeout for the template, each with its reason.
public struct DeploymentSizing: Sendable, Equatable {
    public var memoryMB: SizingFigure
    public var ephemeralStorageMB: SizingFigure
    public var timeoutSeconds: SizingFigure
    /// "study results.json, variant int8 (models/x-int8.gguf)" or "estimate from the GGUF header".
    public var basis: String
    public var isEstimate: Bool
    /// Cautions for the console and the README (context growth, overrides below the need).
    public var notes: [String]

    public init(memoryMB: SizingFigure, ephemeralStorageMB: SizingFigure, timeoutSeconds: SizingFigure, basis: String,
                isEstimate: Bool, notes: [String] = []) {
        self.memoryMB = memoryMB
        self.ephemeralStorageMB = ephemeralStorageMB
        self.timeoutSeconds = timeoutSeconds
        self.basis = basis
        self.isEstimate = isEstimate
        self.notes = notes
    }
}

/// The rules that turn a study verdict, or an estimate from the GGUF header, into
/// template numbers. Memory and /tmp rules are LambdaPlanner's; only timeout is ours.
public enum DeploymentSizer {
    /// Timeout = 3 x the measured request + the cold start, within 30...900 s: the first
    /// invoke after an init that overran its 10 s is retried inside the invoke, under
    /// this timeout, and a request three times the standard one still finishes.
    public static let timeoutRequestFactor = 3.0
    public static let minimumTimeoutSeconds = 30
    /// Without a measurement: long enough for a few hundred tokens on a small model.
    public static let defaultTimeoutSeconds = 300
    public static let timeoutRule =
        "3 x the measured request + the cold start, rounded up, at least 30 s, at most Lambda's 900 s"

    // MARK: Timeout

    public static func timeoutSeconds(requestSeconds: Double, coldStartSeconds: Double,
                                      limits: LambdaLimits = .current) -> Int {
        let maximum = Int(limits.timeoutSeconds)
        // NaN (nothing measured) counts as 0; infinity (never finishes) hits the cap.
        let part = { (x: Double) in x.isNaN ? 0 : max(x, 0) }
        let raw = timeoutRequestFactor * part(requestSeconds) + part(coldStartSeconds)
        guard raw.isFinite else { return maximum }
        return min(maximum, max(minimumTimeoutSeconds, Int(raw.rounded(.up))))
    }

    // MARK: /tmp

    public static func ephemeralStorage(source: DeploymentSource, fileBytes: Int64,
                                        limits: LambdaLimits = .current) throws(PackageError) -> SizingFigure {
        switch source {
        case .image:
            return SizingFigure(value: limits.minEphemeralStorageMB,
                                reason: "the model is inside the image, so /tmp stays at Lambda's free "
                                    + "\(Format.grouped(limits.minEphemeralStorageMB)) MB")
        case .s3:
            guard let mb = LambdaPlanner.ephemeralStorageSetting(fileBytes: fileBytes, limits: limits) else {
                throw .storageTooLarge(neededMB: LambdaPlanner.ephemeralStorageNeededMB(fileBytes: fileBytes, limits: limits),
                                       limitMB: limits.maxEphemeralStorageMB)
            }
            return SizingFigure(value: mb, reason: "the model (\(Format.megabytes(fileBytes))) is downloaded to /tmp: "
                + "file x 1.01, rounded up, at least \(Format.grouped(limits.minEphemeralStorageMB)) MB (LambdaPlanner)")
        }
    }

    // MARK: From a study

    /// The variant of `results` that is this model: same size in bytes; when several have
    /// that size, the one whose file name matches. Study files carry hashed names
    /// (`1a2b-int8.gguf`), so a renamed copy still matches by size alone.
    public static func matchVariant(in results: StudyResults, fileBytes: Int64, fileName: String,
                                    studyPath: String) throws(PackageError) -> (variant: VariantResult, byName: Bool) {
        let sameSize = results.variants.filter { $0.fileBytes == fileBytes }
        let describe = { (v: VariantResult) in "\(v.type) \((v.file as NSString).lastPathComponent) (\(Format.grouped(Int(clamping: v.fileBytes))) bytes)" }
        let sameName = sameSize.filter { ($0.file as NSString).lastPathComponent == fileName }
        if sameName.count == 1, let variant = sameName.first { return (variant, true) }
        if sameSize.count == 1, let variant = sameSize.first { return (variant, false) }
        if sameSize.isEmpty {
            throw .noMatchingVariant(study: studyPath, fileBytes: fileBytes, fileName: fileName,
                                     variants: results.variants.map(describe))
        }
        throw .ambiguousVariant(study: studyPath, fileName: fileName, variants: sameSize.map(describe))
    }

    public static func fromStudy(
        variant: VariantResult, matchedByName: Bool, studyPath: String, settings: StudySettings,
        source: DeploymentSource, fileBytes: Int64, kvCache: KVCacheEstimate?, limits: LambdaLimits = .current
    ) throws(PackageError) -> DeploymentSizing {
        guard let verdict = variant.verdict else { throw .noVerdict(study: studyPath, variant: variant.type) }
        let variantFile = (variant.file as NSString).lastPathComponent
        let basis = "study \(studyPath), variant \(variant.type) (\(variantFile), "
            + (matchedByName ? "same name and size" : "same size; names differ") + ")"
        guard let memory = verdict.memoryMB else {
            let peak = variant.peakRSSBytes
            throw .memoryTooLarge(neededMB: LambdaPlanner.memoryNeededMB(peakRSSBytes: peak, limits: limits),
                                  limitMB: limits.maxMemoryMB, basis: "measured peak RSS \(Format.megabytes(peak)) in \(basis)")
        }
        let memoryFigure = SizingFigure(
            value: memory,
            reason: "measured: peak RSS \(Format.megabytes(variant.peakRSSBytes)) of variant \(variant.type) in \(studyPath); "
                + verdict.memoryMargin)

        let coldStart = source == .s3 ? verdict.coldStartS3Seconds : verdict.coldStartImageSeconds
        let timeout: SizingFigure
        if let request = verdict.requestSecondsAtMemory {
            let seconds = timeoutSeconds(requestSeconds: request, coldStartSeconds: coldStart, limits: limits)
            timeout = SizingFigure(
                value: seconds,
                reason: "\(timeoutRule): 3 x \(Format.seconds(request)) (\(settings.promptTokens) prompt + "
                    + "\(settings.genTokens) generated tokens at \(Format.grouped(memory)) MB, projected by the study) + "
                    + "\(Format.seconds(coldStart)) cold start (\(source == .s3 ? "S3 download + load" : "load from the image"))")
        } else {
            timeout = SizingFigure(value: defaultTimeoutSeconds,
                                   reason: "the study projected no request time for \(variant.type): default \(defaultTimeoutSeconds) s")
        }

        var notes: [String] = []
        if !verdict.fitsTimeout, let request = verdict.requestSecondsAtMemory {
            notes.append("the study's standard request takes \(Format.seconds(request)) at \(Format.grouped(memory)) MB, "
                + "over Lambda's \(Int(limits.timeoutSeconds)) s timeout: shorter requests only, or more --memory")
        }
        if let kvCache {
            let measured = settings.promptTokens + settings.genTokens
            let extra = kvCache.bytesPerPosition * Int64(max(kvCache.contextLength - measured, 0))
            notes.append("the study measured \(measured)-token requests; the KV cache grows by "
                + "\(Format.megabytes(kvCache.bytesPerPosition * 1000)) per 1,000 tokens, so a request filling the "
                + "\(Format.grouped(kvCache.contextLength))-token context needs about \(Format.megabytes(extra)) more: "
                + "raise --memory or cap the context with LAMBDA_LLM_CONTEXT (--context)")
        }
        return DeploymentSizing(
            memoryMB: memoryFigure,
            ephemeralStorageMB: try ephemeralStorage(source: source, fileBytes: fileBytes, limits: limits),
            timeoutSeconds: timeout, basis: basis, isEstimate: false, notes: notes)
    }

    // MARK: Without a study

    /// Peak RSS ~ file + KV cache at the full context (the engine maps the file and grows
    /// the cache with the positions used), through LambdaPlanner's margin.
    public static func estimate(fileBytes: Int64, kvCache: KVCacheEstimate, source: DeploymentSource, modelPath: String,
                                limits: LambdaLimits = .current) throws(PackageError) -> DeploymentSizing {
        let peak = fileBytes + kvCache.bytes
        let basis = "an estimate from the GGUF header (not measured)"
        let how = "peak RSS ~ file \(Format.megabytes(fileBytes)) + KV cache \(Format.megabytes(kvCache.bytes)) "
            + "(\(kvCache.shapeDescription))"
        guard let memory = LambdaPlanner.memorySetting(peakRSSBytes: peak, limits: limits) else {
            throw .memoryTooLarge(neededMB: LambdaPlanner.memoryNeededMB(peakRSSBytes: peak, limits: limits),
                                  limitMB: limits.maxMemoryMB, basis: basis + ": " + how)
        }
        let study = studyCommand(modelPath: modelPath)
        return DeploymentSizing(
            memoryMB: SizingFigure(value: memory, reason: "estimated, not measured: \(how); \(LambdaPlanner.memoryMarginDescription). "
                + "Measure it with `\(study)` and package with --study"),
            ephemeralStorageMB: try ephemeralStorage(source: source, fileBytes: fileBytes, limits: limits),
            timeoutSeconds: SizingFigure(value: defaultTimeoutSeconds,
                                         reason: "no measured request time: default \(defaultTimeoutSeconds) s "
                                             + "(with --study: \(timeoutRule))"),
            basis: basis, isEstimate: true)
    }

    /// The study run that measures this model: its own type keeps the file as it is.
    public static func studyCommand(modelPath: String) -> String {
        "lambda-llm study --model \(shellQuoted(modelPath))"
    }

    // MARK: Overrides

    /// --memory and --timeout replace the planned figures; a memory below the plan is kept
    /// (the user may know their requests are short) with a note.
    public static func overriding(_ sizing: DeploymentSizing, memoryMB: Int?, timeoutSeconds: Int?,
                                  limits: LambdaLimits = .current) throws(PackageError) -> DeploymentSizing {
        var result = sizing
        if let memoryMB {
            guard limits.isValidMemory(memoryMB) else {
                throw .invalidOption("--memory \(memoryMB) is outside Lambda's \(Format.grouped(limits.minMemoryMB))-"
                    + "\(Format.grouped(limits.maxMemoryMB)) MB")
            }
            if memoryMB < sizing.memoryMB.value {
                result.notes.append("--memory \(Format.grouped(memoryMB)) MB is below the \(Format.grouped(sizing.memoryMB.value)) MB "
                    + "planned (\(sizing.isEstimate ? "estimated" : "measured")): the function may run out of memory")
            }
            result.memoryMB = SizingFigure(value: memoryMB, reason: "--memory (planned: \(Format.grouped(sizing.memoryMB.value)) MB, "
                + sizing.memoryMB.reason + ")")
        }
        if let timeoutSeconds {
            let maximum = Int(limits.timeoutSeconds)
            guard (1...maximum).contains(timeoutSeconds) else {
                throw .invalidOption("--timeout \(timeoutSeconds) is outside Lambda's 1-\(maximum) s")
            }
            result.timeoutSeconds = SizingFigure(value: timeoutSeconds,
                                                 reason: "--timeout (planned: \(sizing.timeoutSeconds.value) s)")
        }
        return result
    }

    /// POSIX single quotes, unless the text needs none.
    static func shellQuoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "/._-+=:,@%".unicodeScalars.contains($0)
        }
        return plain && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
