import Foundation
import LambdaLimits

/// Turns one variant's measured figures (file size, peak RSS, load time, tokens/s at a
/// few thread counts) into a `LambdaVerdict`: the memory and /tmp settings it needs,
/// its projected speed and cost there, and whether it deploys at all. Every Lambda
/// number comes from `LambdaLimits`; this file only holds the rules, one function each
/// so tests can check them one at a time.
///
/// Sizes are Lambda's "MB": 2^20 bytes, everywhere.

/// The measured figures the planner judges.
public struct VerdictInput: Sendable, Equatable {
    public static let defaultRuntimeBytes: Int64 = 100 * LambdaLimits.bytesPerMB

    public var fileBytes: Int64
    public var peakRSSBytes: Int64
    /// Measured with a warm page cache, so a lower bound for a real cold start.
    public var loadSeconds: Double
    /// Threads -> tokens/s.
    public var prefillTokensPerSecond: [Int: Double]
    /// Threads -> tokens/s.
    public var decodeTokensPerSecond: [Int: Double]
    public var promptTokens: Int
    public var genTokens: Int
    /// Assumed S3 download throughput, MB (2^20 bytes) per second.
    public var s3MegabytesPerSecond: Double
    /// Our binary plus base layers, as the caller estimates them.
    public var runtimeBytes: Int64
    /// A memory setting to evaluate instead of the smallest that fits, when it is larger.
    public var requestedMemoryMB: Int?

    public init(fileBytes: Int64, peakRSSBytes: Int64, loadSeconds: Double, prefillTokensPerSecond: [Int: Double],
                decodeTokensPerSecond: [Int: Double], promptTokens: Int, genTokens: Int,
                s3MegabytesPerSecond: Double, runtimeBytes: Int64 = VerdictInput.defaultRuntimeBytes,
                requestedMemoryMB: Int? = nil) {
        self.fileBytes = fileBytes
        self.peakRSSBytes = peakRSSBytes
        self.loadSeconds = loadSeconds
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.promptTokens = promptTokens
        self.genTokens = genTokens
        self.s3MegabytesPerSecond = s3MegabytesPerSecond
        self.runtimeBytes = runtimeBytes
        self.requestedMemoryMB = requestedMemoryMB
    }
}

public enum LambdaPlanner {
    /// Peak RSS is multiplied by this and `memoryMarginMB` added: room for the runtime's
    /// own buffers, response buffers and page-cache pressure that one measurement misses.
    public static let memoryMarginFactor = 1.10
    public static let memoryMarginMB = 64
    /// /tmp gets 1 part in this many more than the file (1%): file-system overhead.
    public static let ephemeralStorageSlackDivisor: Int64 = 100

    public static let memoryMarginDescription =
        "peak RSS x 1.10 + 64 MB, rounded up to a whole MB, at least 128 MB"

    // MARK: Memory and storage

    /// The smallest memory that holds `peakRSSBytes` plus the margin, whether or not
    /// Lambda offers it: ceil(peak x 1.10 / MB) + 64, at least the minimum setting.
    public static func memoryNeededMB(peakRSSBytes: Int64, limits: LambdaLimits = .current) -> Int {
        let peak = max(peakRSSBytes, 0)
        // ceil(ceil(1.1 x peak) / MB) == ceil(1.1 x peak / MB), all in integers.
        let withMargin = saturatingAdd(peak, ceilDivide(peak, 10))
        let mb = saturatingAdd(ceilDivide(withMargin, LambdaLimits.bytesPerMB), Int64(memoryMarginMB))
        return max(Int(clamping: mb), limits.minMemoryMB)
    }

    /// The memory setting the "at memory" figures use: the smallest that fits, or the
    /// requested one when it is a valid setting and larger. nil when nothing Lambda
    /// offers holds the model.
    public static func memorySetting(peakRSSBytes: Int64, requestedMemoryMB: Int? = nil,
                                     limits: LambdaLimits = .current) -> Int? {
        let needed = memoryNeededMB(peakRSSBytes: peakRSSBytes, limits: limits)
        guard needed <= limits.maxMemoryMB else { return nil }
        if let requested = requestedMemoryMB, limits.isValidMemory(requested) {
            return max(needed, requested)
        }
        return needed
    }

    /// /tmp the downloaded file needs: ceil(file x 1.01 / MB), whether or not Lambda offers it.
    public static func ephemeralStorageNeededMB(fileBytes: Int64, limits: LambdaLimits = .current) -> Int {
        let file = max(fileBytes, 0)
        let withSlack = saturatingAdd(file, ceilDivide(file, ephemeralStorageSlackDivisor))
        let mb = ceilDivide(withSlack, LambdaLimits.bytesPerMB)
        return max(Int(clamping: mb), limits.minEphemeralStorageMB)
    }

    /// The smallest /tmp setting that holds the model file loaded from S3; nil when none does.
    public static func ephemeralStorageSetting(fileBytes: Int64, limits: LambdaLimits = .current) -> Int? {
        let needed = ephemeralStorageNeededMB(fileBytes: fileBytes, limits: limits)
        return needed <= limits.maxEphemeralStorageMB ? needed : nil
    }

    // MARK: Speed

    /// Amdahl's law for time per token, t(n) = s + p/n: `serialSeconds` (s) does not
    /// shrink with threads, `parallelSeconds` (p) divides among them.
    public struct ScalingFit: Sendable, Equatable {
        public var serialSeconds: Double
        public var parallelSeconds: Double
        /// The measured thread counts the fit came from: two, or one when only one was measured.
        public var threads: [Int]

        public init(serialSeconds: Double, parallelSeconds: Double, threads: [Int]) {
            self.serialSeconds = serialSeconds
            self.parallelSeconds = parallelSeconds
            self.threads = threads
        }

        public func secondsPerToken(threads n: Double) -> Double {
            serialSeconds + parallelSeconds / n
        }

        /// Below one vCPU the function gets that fraction of one core's time, so it runs
        /// at that fraction of the 1-thread speed. From one vCPU up it runs
        /// n = min(share, visible cores) threads' worth.
        public func tokensPerSecond(vcpus: Double, visibleCores: Int = .max) -> Double {
            guard vcpus.isFinite, vcpus > 0 else { return 0 }
            if vcpus < 1 {
                return vcpus / secondsPerToken(threads: 1)
            }
            let n = min(vcpus, Double(max(visibleCores, 1)))
            return 1 / secondsPerToken(threads: n)
        }
    }

    /// Fits t(n) = s + p/n through the two smallest measured thread counts a < b (the
    /// study measures 1 and 2, where p = 2(t1 - t2), s = t1 - p); larger counts are not
    /// used. s and p are clamped at 0, keeping t(a) as measured, so more cores never
    /// slow it down and never beat perfect scaling. With one count k measured there is
    /// nothing to fit: s = t(k), p = 0, no scaling. Non-positive or non-finite entries
    /// are ignored; nil when none remain.
    public static func scalingFit(measured: [Int: Double]) -> ScalingFit? {
        let points = measured
            .filter { $0.key > 0 && $0.value.isFinite && $0.value > 0 }
            .sorted { $0.key < $1.key }
        guard let first = points.first else { return nil }
        let a = Double(first.key)
        let ta = 1 / first.value
        guard points.count >= 2 else {
            return ScalingFit(serialSeconds: ta, parallelSeconds: 0, threads: [first.key])
        }
        let second = points[1]
        let b = Double(second.key)
        let tb = 1 / second.value
        var p = (ta - tb) / (1 / a - 1 / b)
        var s = ta - p / a
        if p < 0 {
            // More threads measured slower: assume no gain rather than a loss.
            p = 0
            s = ta
        } else if s < 0 {
            // Better than perfect scaling (noise, cache effects): cap at perfect.
            s = 0
            p = ta * a
        }
        return ScalingFit(serialSeconds: s, parallelSeconds: p, threads: [first.key, second.key])
    }

    /// Tokens/s at a vCPU share, projected from tokens/s measured at a few thread counts
    /// (see `scalingFit` and `ScalingFit.tokensPerSecond`). nil when nothing usable was measured.
    public static func projectedTokensPerSecond(measured: [Int: Double], vcpus: Double,
                                                visibleCores: Int = .max) -> Double? {
        guard let fit = scalingFit(measured: measured) else { return nil }
        let speed = fit.tokensPerSecond(vcpus: vcpus, visibleCores: visibleCores)
        return speed.isFinite && speed > 0 ? speed : nil
    }

    /// One standard request: prefill of the prompt, then every generated token. nil when
    /// a speed the request needs is missing or not positive.
    public static func requestSeconds(promptTokens: Int, genTokens: Int, prefillTokensPerSecond: Double?,
                                      decodeTokensPerSecond: Double?) -> Double? {
        func phase(_ tokens: Int, _ speed: Double?) -> Double? {
            guard tokens > 0 else { return 0 }
            guard let speed, speed.isFinite, speed > 0 else { return nil }
            return Double(tokens) / speed
        }
        guard let prefill = phase(promptTokens, prefillTokensPerSecond),
              let decode = phase(genTokens, decodeTokensPerSecond) else { return nil }
        return prefill + decode
    }

    // MARK: Cost

    /// USD per 1,000 requests: duration x memory in GB (MB / 1,024) x price per GB-s,
    /// plus the request fee. Lambda bills duration per millisecond; that rounding is
    /// ignored (noise at seconds per request). arm64 is assumed to take the same time as
    /// the measured x86_64: Graviton cannot be measured here.
    public static func costPer1000(requestSeconds: Double, memoryMB: Int, architecture: LambdaArchitecture,
                                   limits: LambdaLimits = .current) -> Double {
        let gigabytes = Double(memoryMB) / 1024
        let perRequest = requestSeconds * gigabytes * limits.pricePerGBSecond(architecture) + limits.pricePerRequest
        return 1000 * perRequest
    }

    // MARK: Cold start

    /// Seconds to download the model file from S3 at the assumed throughput; nil when
    /// the throughput is not a positive number.
    public static func downloadSeconds(fileBytes: Int64, megabytesPerSecond: Double) -> Double? {
        guard megabytesPerSecond.isFinite, megabytesPerSecond > 0 else { return nil }
        return Double(max(fileBytes, 0)) / Double(LambdaLimits.bytesPerMB) / megabytesPerSecond
    }

    // MARK: The verdict

    /// Rules (each in its own function above):
    /// - memory: peak RSS x 1.10 + 64 MB, rounded up, at least 128; a larger valid
    ///   requested setting replaces it; nil over 10,240 MB.
    /// - /tmp: file x 1.01, rounded up, at least 512; nil over 10,240 MB.
    /// - speed: Amdahl fit of the 1- and 2-thread runs, projected to the vCPU share at
    ///   the memory setting and at the maximum (10,240 MB).
    /// - timeout: one standard request within 900 s at the memory setting.
    /// - cold start: from S3, download plus load, which must fit the 10 s init phase;
    ///   from a container image, the load alone (Lambda caches image layers; our load
    ///   is measured with a warm page cache, so it is a lower bound either way).
    /// - packaging: file plus runtime within 10 GB (image) or 250 MB (zip, unzipped).
    /// - deployable: memory fits, the file fits /tmp or an image, and the timeout holds.
    ///
    /// An invalid S3 throughput (not a positive number) leaves downloadSeconds at 0 and
    /// initWithinLimit false: the caller should reject it before measuring anything.
    public static func verdict(for input: VerdictInput, limits: LambdaLimits = .current) -> LambdaVerdict {
        let neededMemory = memoryNeededMB(peakRSSBytes: input.peakRSSBytes, limits: limits)
        let memory = memorySetting(peakRSSBytes: input.peakRSSBytes, requestedMemoryMB: input.requestedMemoryMB,
                                   limits: limits)
        let storage = ephemeralStorageSetting(fileBytes: input.fileBytes, limits: limits)

        let prefillFit = scalingFit(measured: input.prefillTokensPerSecond)
        let decodeFit = scalingFit(measured: input.decodeTokensPerSecond)

        func speedAndRequest(memoryMB: Int) -> (decode: Double?, request: Double?) {
            let vcpus = limits.vcpuShare(memoryMB: memoryMB)
            let cores = limits.visibleCores(memoryMB: memoryMB)
            let decode = projectedTokensPerSecond(measured: input.decodeTokensPerSecond, vcpus: vcpus,
                                                  visibleCores: cores)
            let prefill = projectedTokensPerSecond(measured: input.prefillTokensPerSecond, vcpus: vcpus,
                                                   visibleCores: cores)
            let request = requestSeconds(promptTokens: input.promptTokens, genTokens: input.genTokens,
                                         prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode)
            return (decode, request)
        }

        let atMemory = memory.map { speedAndRequest(memoryMB: $0) }
        // Speed at the maximum only means something when the model fits memory at all.
        let atMaximum = memory.map { _ in speedAndRequest(memoryMB: limits.maxMemoryMB) }
        let requestAtMemory = atMemory?.request

        let fitsTimeout = requestAtMemory.map { $0 <= limits.timeoutSeconds } ?? false

        let load = nonNegative(input.loadSeconds)
        let download = downloadSeconds(fileBytes: input.fileBytes, megabytesPerSecond: input.s3MegabytesPerSecond)
        let coldStartS3 = (download ?? 0) + load
        let initWithinLimit = download != nil && coldStartS3 <= limits.initPhaseSeconds

        func cost(_ architecture: LambdaArchitecture) -> Double? {
            guard let memory, let requestAtMemory else { return nil }
            return costPer1000(requestSeconds: requestAtMemory, memoryMB: memory, architecture: architecture,
                               limits: limits)
        }

        let imageBytes = saturatingAdd(max(input.fileBytes, 0), max(input.runtimeBytes, 0))
        let fitsImage = imageBytes <= limits.containerImageBytes
        let fitsZip = imageBytes <= limits.zipUnzippedBytes
        let deployable = memory != nil && (storage != nil || fitsImage) && fitsTimeout

        var verdict = LambdaVerdict(
            fitsEphemeralStorage: storage != nil,
            ephemeralStorageMB: storage,
            memoryMB: memory,
            memoryMargin: memoryMarginText(needed: neededMemory, used: memory, requested: input.requestedMemoryMB,
                                           limits: limits),
            vcpusAtMemory: memory.map { limits.vcpuShare(memoryMB: $0) },
            visibleCoresAtMemory: memory.map { limits.visibleCores(memoryMB: $0) },
            decodeTokensPerSecondAtMemory: atMemory?.decode,
            requestSecondsAtMemory: requestAtMemory,
            decodeTokensPerSecondAtMaximum: atMaximum?.decode,
            requestSecondsAtMaximum: atMaximum?.request,
            scalingModel: scalingModelText(decode: decodeFit, prefill: prefillFit),
            fitsTimeout: fitsTimeout,
            downloadSeconds: download ?? 0,
            coldStartS3Seconds: coldStartS3,
            coldStartImageSeconds: load,
            initWithinLimit: initWithinLimit,
            costPer1000RequestsX86: cost(.x86_64),
            costPer1000RequestsArm64: cost(.arm64),
            containerImageBytes: imageBytes,
            fitsContainerImage: fitsImage,
            fitsZip: fitsZip,
            deployable: deployable,
            summary: ""
        )
        verdict.summary = summaryText(verdict, neededMemoryMB: neededMemory, fileBytes: input.fileBytes,
                                      limits: limits)
        return verdict
    }

    // MARK: Words

    static func memoryMarginText(needed: Int, used: Int?, requested: Int?, limits: LambdaLimits) -> String {
        var text = memoryMarginDescription
        guard let requested else { return text }
        if !limits.isValidMemory(requested) {
            text += "; requested \(grouped(requested)) MB ignored: Lambda allows "
                + "\(grouped(limits.minMemoryMB))-\(grouped(limits.maxMemoryMB)) MB"
        } else if let used, used == requested, requested > needed {
            text += "; figures at the requested \(grouped(requested)) MB (smallest that fits: \(grouped(needed)) MB)"
        } else if used != nil, requested < needed {
            text += "; requested \(grouped(requested)) MB is too small, so the smallest that fits is used"
        }
        return text
    }

    static func scalingModelText(decode: ScalingFit?, prefill: ScalingFit?) -> String {
        let tail = "; below 1 vCPU, that fraction of the 1-thread speed; from 1 vCPU, "
            + "n = min(vCPU share, visible cores); prefill projected the same way from its own runs; "
            + "memory-bandwidth ceiling not modelled, so many-vCPU figures may be optimistic; "
            + "arm64 assumed as fast as the measured machine"
        guard let decode else {
            return "no positive decode tokens/s measured: nothing projected"
        }
        if decode.threads.count < 2, let k = decode.threads.first {
            return "only the \(k)-thread run measured: no scaling assumed beyond it "
                + "(t(n) = t(\(k)), s = t, p = 0)" + tail
        }
        func milliseconds(_ fit: ScalingFit) -> String {
            String(format: "s = %.3g ms, p = %.3g ms per token", fit.serialSeconds * 1000, fit.parallelSeconds * 1000)
        }
        var fitted = "decode: " + milliseconds(decode)
        if let prefill, prefill.threads.count == 2 {
            fitted += "; prefill: " + milliseconds(prefill)
        }
        return "Amdahl fit t(n) = s + p/n to the \(decode.threads[0])- and \(decode.threads[1])-thread runs, "
            + "s and p clamped at 0 (\(fitted))" + tail
    }

    static func summaryText(_ v: LambdaVerdict, neededMemoryMB: Int, fileBytes: Int64,
                            limits: LambdaLimits) -> String {
        if v.deployable, let memory = v.memoryMB, let seconds = v.requestSecondsAtMemory {
            var parts = ["\(grouped(memory)) MB memory (\(String(format: "%.2f", v.vcpusAtMemory ?? 0)) vCPU)"]
            if let storage = v.ephemeralStorageMB {
                parts.append("\(grouped(storage)) MB /tmp")
            } else {
                parts.append("container image only (file over \(grouped(limits.maxEphemeralStorageMB)) MB /tmp)")
            }
            parts.append("\(formatSeconds(seconds)) per request")
            if let cost = v.costPer1000RequestsX86 {
                parts.append("\(formatDollars(cost)) per 1,000 (x86_64)")
            }
            var line = "fits: " + parts.joined(separator: ", ")
            if !v.initWithinLimit {
                line += "; S3 cold start \(formatSeconds(v.coldStartS3Seconds)), "
                    + "over the \(formatLimitSeconds(limits.initPhaseSeconds)) init phase"
            }
            return line
        }
        var reasons: [String] = []
        if v.memoryMB == nil {
            reasons.append("needs \(grouped(neededMemoryMB)) MB memory, more than Lambda's "
                + "\(grouped(limits.maxMemoryMB)) MB")
        }
        if !v.fitsEphemeralStorage && !v.fitsContainerImage {
            let fileMB = Int(clamping: ceilDivide(max(fileBytes, 0), LambdaLimits.bytesPerMB))
            reasons.append("the \(grouped(fileMB)) MB file fits neither /tmp "
                + "(\(grouped(limits.maxEphemeralStorageMB)) MB) nor a container image with the runtime")
        }
        if let memory = v.memoryMB {
            if let seconds = v.requestSecondsAtMemory {
                if !v.fitsTimeout {
                    reasons.append("\(formatSeconds(seconds)) per request at \(grouped(memory)) MB, over the "
                        + "\(formatLimitSeconds(limits.timeoutSeconds)) timeout")
                }
            } else {
                reasons.append("no positive tokens/s measured to project a request time")
            }
        }
        return "does not fit: " + reasons.joined(separator: "; ")
    }

    static func grouped(_ value: Int) -> String { Figures.grouped(value) }

    /// One decimal below 100 s, whole seconds above.
    static func formatSeconds(_ seconds: Double) -> String {
        if seconds < 100 { return String(format: "%.1f s", seconds) }
        if seconds < 1e15 { return "\(grouped(Int(seconds.rounded()))) s" }
        return String(format: "%.3g s", seconds)
    }

    /// Lambda's limits are whole seconds.
    static func formatLimitSeconds(_ seconds: Double) -> String {
        abs(seconds) < 1e15 ? "\(grouped(Int(seconds.rounded()))) s" : formatSeconds(seconds)
    }

    /// Two significant digits below $0.10 (costs per 1,000 small requests are fractions of a cent).
    static func formatDollars(_ dollars: Double) -> String {
        guard dollars.isFinite, dollars > 0 else { return "$0" }
        if dollars >= 0.1 { return String(format: "$%.2f", dollars) }
        let decimals = min(8, Int((-log10(dollars)).rounded(.up)) + 1)
        return String(format: "$%.\(decimals)f", dollars)
    }

    // MARK: Arithmetic that cannot trap on odd inputs

    static func ceilDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a / b + (a % b > 0 ? 1 : 0)
    }

    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    static func nonNegative(_ x: Double) -> Double {
        x.isFinite && x > 0 ? x : 0
    }
}
