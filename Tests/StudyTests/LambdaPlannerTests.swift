import Foundation
import LambdaLimits
import Study
import Testing

private let mib: Int64 = 1 << 20

/// Relative closeness, for figures computed through divisions.
private func close(_ actual: Double?, _ expected: Double, relative: Double = 1e-9) -> Bool {
    guard let actual else { return false }
    return abs(actual - expected) <= relative * max(abs(expected), 1e-12)
}

/// A small model that fits easily: 100 MiB file and peak, 10 tok/s decode on 1 thread.
private func smallInput(
    fileBytes: Int64 = 100 * mib, peakRSSBytes: Int64 = 100 * mib, loadSeconds: Double = 0.5,
    prefill: [Int: Double] = [1: 100, 2: 180], decode: [Int: Double] = [1: 10, 2: 16],
    promptTokens: Int = 200, genTokens: Int = 50, s3: Double = 100,
    runtimeBytes: Int64 = VerdictInput.defaultRuntimeBytes, requestedMemoryMB: Int? = nil
) -> VerdictInput {
    VerdictInput(fileBytes: fileBytes, peakRSSBytes: peakRSSBytes, loadSeconds: loadSeconds,
                 prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode, promptTokens: promptTokens,
                 genTokens: genTokens, s3MegabytesPerSecond: s3, runtimeBytes: runtimeBytes,
                 requestedMemoryMB: requestedMemoryMB)
}

@Suite struct LambdaPlannerTests {
    // MARK: Memory

    @Test("memory is peak RSS x 1.10 + 64 MB: 100 MiB peak needs 174 MB")
    func memoryMargin() {
        #expect(LambdaPlanner.memoryNeededMB(peakRSSBytes: 100 * mib) == 174)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 100 * mib) == 174)
    }

    @Test("memory rounds up to a whole MB: one byte over 100 MiB needs 175 MB")
    func memoryRoundsUp() {
        #expect(LambdaPlanner.memoryNeededMB(peakRSSBytes: 100 * mib + 1) == 175)
    }

    @Test("a tiny peak still gets Lambda's 128 MB minimum")
    func memoryMinimum() {
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 0) == 128)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 1) == 128)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 50 * mib) == 128)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: -5) == 128)
    }

    @Test("a 9.5 GiB peak needs 10,765 MB, more than Lambda offers")
    func memoryTooLarge() {
        let peak = 9 * 1024 * mib + 512 * mib
        #expect(LambdaPlanner.memoryNeededMB(peakRSSBytes: peak) == 10_765)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: peak) == nil)
    }

    @Test("the largest peak that fits is 9,250 MiB (10,239 MB); 9,251 MiB needs 10,241")
    func memoryBoundary() {
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 9_250 * mib) == 10_239)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 9_251 * mib) == nil)
    }

    @Test("a valid larger requested memory replaces the minimum; a smaller or invalid one does not")
    func requestedMemory() {
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 100 * mib, requestedMemoryMB: 2_048) == 2_048)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 100 * mib, requestedMemoryMB: 150) == 174)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 100 * mib, requestedMemoryMB: 20_000) == 174)
        #expect(LambdaPlanner.memorySetting(peakRSSBytes: 10 * 1024 * mib, requestedMemoryMB: 10_240) == nil)
    }

    // MARK: /tmp

    @Test("a 100 MiB file gets the free 512 MB of /tmp")
    func ephemeralMinimum() {
        #expect(LambdaPlanner.ephemeralStorageSetting(fileBytes: 100 * mib) == 512)
    }

    @Test("a 3.9 GB file needs ceil(3,900,000,000 x 1.01 / MiB) = 3,757 MB of /tmp")
    func ephemeralRoundsUpWithSlack() {
        #expect(LambdaPlanner.ephemeralStorageSetting(fileBytes: 3_900_000_000) == 3_757)
    }

    @Test("/tmp holds a file up to 10,138 MiB with 1% slack; 10,139 MiB does not fit")
    func ephemeralBoundary() {
        #expect(LambdaPlanner.ephemeralStorageSetting(fileBytes: 10_138 * mib) == 10_240)
        #expect(LambdaPlanner.ephemeralStorageSetting(fileBytes: 10_139 * mib) == nil)
        #expect(LambdaPlanner.ephemeralStorageNeededMB(fileBytes: 10_139 * mib) == 10_241)
    }

    // MARK: Speed projection

    @Test("1- and 2-thread speeds of 10 and 16 tok/s fit s = 0.025 s, p = 0.075 s")
    func amdahlFit() throws {
        let fit = try #require(LambdaPlanner.scalingFit(measured: [1: 10, 2: 16]))
        #expect(close(fit.serialSeconds, 0.025))
        #expect(close(fit.parallelSeconds, 0.075))
        #expect(fit.threads == [1, 2])
    }

    @Test("the fit projects 22.857 tok/s at 4 vCPUs: 1 / (0.025 + 0.075/4)")
    func amdahlProjection() {
        let speed = LambdaPlanner.projectedTokensPerSecond(measured: [1: 10, 2: 16], vcpus: 4)
        #expect(close(speed, 22.857142857142858))
    }

    @Test("half a vCPU runs at half the 1-thread speed")
    func fractionalVCPU() {
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [1: 10, 2: 16], vcpus: 0.5), 5))
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [1: 10, 2: 16], vcpus: 1), 10))
    }

    @Test("visible cores cap the threads: 4 vCPUs of credit on 2 cores run like 2 threads")
    func visibleCoresCap() {
        let speed = LambdaPlanner.projectedTokensPerSecond(measured: [1: 10, 2: 16], vcpus: 4, visibleCores: 2)
        #expect(close(speed, 16))
    }

    @Test("2 threads slower than 1 is clamped to no scaling, never a loss")
    func slowdownClamped() throws {
        let fit = try #require(LambdaPlanner.scalingFit(measured: [1: 10, 2: 8]))
        #expect(fit.parallelSeconds == 0)
        #expect(close(fit.serialSeconds, 0.1))
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [1: 10, 2: 8], vcpus: 5), 10))
    }

    @Test("better-than-perfect scaling is clamped to perfect scaling")
    func superlinearClamped() throws {
        let fit = try #require(LambdaPlanner.scalingFit(measured: [1: 10, 2: 25]))
        #expect(fit.serialSeconds == 0)
        #expect(close(fit.parallelSeconds, 0.1))
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [1: 10, 2: 25], vcpus: 4), 40))
        // Anchored at the smaller count: 10 tok/s on 2 threads scales perfectly to 40 on 8.
        let fromTwo = try #require(LambdaPlanner.scalingFit(measured: [2: 10, 4: 25]))
        #expect(close(fromTwo.parallelSeconds, 0.2))
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [2: 10, 4: 25], vcpus: 8), 40))
    }

    @Test("with one thread count measured there is no scaling beyond it")
    func singleThreadCount() throws {
        let fit = try #require(LambdaPlanner.scalingFit(measured: [1: 10]))
        #expect(fit.parallelSeconds == 0)
        #expect(fit.threads == [1])
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [1: 10], vcpus: 4), 10))
        #expect(close(LambdaPlanner.projectedTokensPerSecond(measured: [1: 10], vcpus: 0.25), 2.5))
    }

    @Test("the fit uses the two smallest counts, whichever they are: 2 and 4 threads recover s and p")
    func fitFromOtherCounts() throws {
        let fit = try #require(LambdaPlanner.scalingFit(measured: [2: 16, 4: 1 / 0.04375, 8: 1_000]))
        #expect(close(fit.serialSeconds, 0.025))
        #expect(close(fit.parallelSeconds, 0.075))
        #expect(fit.threads == [2, 4])
    }

    @Test("zero, negative and non-finite speeds are ignored; with none left nothing is projected")
    func unusableSpeeds() {
        #expect(LambdaPlanner.scalingFit(measured: [1: 0, 2: -3]) == nil)
        #expect(LambdaPlanner.scalingFit(measured: [:]) == nil)
        #expect(LambdaPlanner.scalingFit(measured: [1: 10, 2: .nan])?.threads == [1])
        #expect(LambdaPlanner.projectedTokensPerSecond(measured: [1: .infinity], vcpus: 1) == nil)
    }

    // MARK: Request time and cost

    @Test("a request is prompt / prefill speed plus generated / decode speed: 200/100 + 50/10 = 7 s")
    func requestSeconds() {
        let seconds = LambdaPlanner.requestSeconds(promptTokens: 200, genTokens: 50, prefillTokensPerSecond: 100,
                                                   decodeTokensPerSecond: 10)
        #expect(close(seconds, 7))
    }

    @Test("a request with no speed for a phase it needs has no time; a phase with no tokens needs no speed")
    func requestSecondsMissingSpeed() {
        #expect(LambdaPlanner.requestSeconds(promptTokens: 200, genTokens: 50, prefillTokensPerSecond: nil,
                                             decodeTokensPerSecond: 10) == nil)
        #expect(LambdaPlanner.requestSeconds(promptTokens: 200, genTokens: 50, prefillTokensPerSecond: 100,
                                             decodeTokensPerSecond: 0) == nil)
        #expect(close(LambdaPlanner.requestSeconds(promptTokens: 200, genTokens: 0, prefillTokensPerSecond: 100,
                                                   decodeTokensPerSecond: nil), 2))
    }

    @Test("2 s at 1,024 MB on x86_64 costs 1000 x 2 x 1 x 0.0000166667 + 0.0002 = $0.0335334 per 1,000")
    func costX86() {
        let cost = LambdaPlanner.costPer1000(requestSeconds: 2, memoryMB: 1_024, architecture: .x86_64)
        #expect(close(cost, 0.0335334))
    }

    @Test("arm64 at the same time costs $0.0268668; half the memory halves the compute part")
    func costArmAndMemory() {
        #expect(close(LambdaPlanner.costPer1000(requestSeconds: 2, memoryMB: 1_024, architecture: .arm64),
                      0.0268668))
        #expect(close(LambdaPlanner.costPer1000(requestSeconds: 2, memoryMB: 512, architecture: .x86_64),
                      0.0168667))
    }

    @Test("downloading 1,000 MiB at 100 MB/s takes 10 s; a throughput of 0 gives no figure")
    func download() {
        #expect(close(LambdaPlanner.downloadSeconds(fileBytes: 1_000 * mib, megabytesPerSecond: 100), 10))
        #expect(LambdaPlanner.downloadSeconds(fileBytes: 1_000 * mib, megabytesPerSecond: 0) == nil)
        #expect(LambdaPlanner.downloadSeconds(fileBytes: 1_000 * mib, megabytesPerSecond: .nan) == nil)
    }

    // MARK: The whole verdict

    @Test("a hand-computed verdict at exactly 1 vCPU (1,769 MB) with its figures at the maximum")
    func wholeVerdict() {
        // Peak 1,550 MiB: 1,550 x 1.1 = 1,705, + 64 = 1,769 MB = 1.0 vCPU, 2 visible cores.
        let input = smallInput(fileBytes: 1_000 * mib, peakRSSBytes: 1_550 * mib, loadSeconds: 0.5, s3: 100)
        let v = LambdaPlanner.verdict(for: input)
        #expect(v.memoryMB == 1_769)
        #expect(v.vcpusAtMemory == 1.0)
        #expect(v.visibleCoresAtMemory == 2)
        #expect(close(v.decodeTokensPerSecondAtMemory, 10))
        #expect(close(v.requestSecondsAtMemory, 7))
        // 10,240 MB = 5.7886 vCPUs: decode 1/(0.025 + 0.075/5.7886), prefill likewise.
        #expect(close(v.decodeTokensPerSecondAtMaximum, 26.345918826783304))
        #expect(close(v.requestSecondsAtMaximum, 2.427167426215278))
        #expect(v.fitsTimeout)
        // 1,000 MiB x 1.01 = 1,010 MB of /tmp.
        #expect(v.ephemeralStorageMB == 1_010)
        #expect(v.fitsEphemeralStorage)
        #expect(close(v.downloadSeconds, 10))
        #expect(close(v.coldStartS3Seconds, 10.5))
        #expect(close(v.coldStartImageSeconds, 0.5))
        #expect(!v.initWithinLimit)
        // 1000 x 7 s x 1,769/1,024 GB x price + $0.0002.
        #expect(close(v.costPer1000RequestsX86, 0.20174662705078128))
        #expect(close(v.costPer1000RequestsArm64, 0.1614377853515625))
        #expect(v.containerImageBytes == 1_100 * mib)
        #expect(v.fitsContainerImage)
        #expect(!v.fitsZip)
        #expect(v.deployable)
        #expect(v.summary.hasPrefix("fits: 1,769 MB memory (1.00 vCPU), 1,010 MB /tmp, 7.0 s per request, "
            + "$0.20 per 1,000 (x86_64)"))
        #expect(v.summary.contains("S3 cold start 10.5 s, over the 10 s init phase"))
        #expect(v.memoryMargin.contains("1.10"))
        #expect(v.memoryMargin.contains("64 MB"))
    }

    @Test("a cold start within 10 s is within the init phase and the summary does not warn")
    func initWithinLimit() {
        let v = LambdaPlanner.verdict(for: smallInput(fileBytes: 100 * mib, loadSeconds: 2, s3: 50))
        #expect(close(v.coldStartS3Seconds, 4))
        #expect(v.initWithinLimit)
        #expect(!v.summary.contains("cold start"))
    }

    @Test("45 generated tokens at 0.05 tok/s (900 s) fit the timeout; 46 (920 s) do not")
    func timeoutBoundary() {
        let fits = LambdaPlanner.verdict(for: smallInput(prefill: [:], decode: [1: 0.05], promptTokens: 0,
                                                         genTokens: 45, requestedMemoryMB: 1_769))
        #expect(close(fits.requestSecondsAtMemory, 900))
        #expect(fits.fitsTimeout)
        #expect(fits.deployable)

        let slow = LambdaPlanner.verdict(for: smallInput(prefill: [:], decode: [1: 0.05], promptTokens: 0,
                                                         genTokens: 46, requestedMemoryMB: 1_769))
        #expect(close(slow.requestSecondsAtMemory, 920))
        #expect(!slow.fitsTimeout)
        #expect(!slow.deployable)
        #expect(slow.summary == "does not fit: 920 s per request at 1,769 MB, over the 900 s timeout")
    }

    @Test("a 14 GiB peak does not fit: no memory, speed, cost or timeout figures")
    func memoryDoesNotFit() {
        let v = LambdaPlanner.verdict(for: smallInput(peakRSSBytes: 14 * 1024 * mib))
        #expect(v.memoryMB == nil)
        #expect(v.vcpusAtMemory == nil)
        #expect(v.visibleCoresAtMemory == nil)
        #expect(v.requestSecondsAtMemory == nil)
        #expect(v.requestSecondsAtMaximum == nil)
        #expect(v.costPer1000RequestsX86 == nil)
        #expect(v.costPer1000RequestsArm64 == nil)
        #expect(!v.fitsTimeout)
        #expect(!v.deployable)
        #expect(v.summary == "does not fit: needs 15,834 MB memory, more than Lambda's 10,240 MB")
    }

    @Test("file plus runtime of exactly 250 MiB fits a zip; one byte more does not")
    func zipBoundary() {
        let exact = LambdaPlanner.verdict(for: smallInput(fileBytes: 150 * mib, runtimeBytes: 100 * mib))
        #expect(exact.fitsZip)
        let over = LambdaPlanner.verdict(for: smallInput(fileBytes: 150 * mib + 1, runtimeBytes: 100 * mib))
        #expect(!over.fitsZip)
        #expect(over.containerImageBytes == 250 * mib + 1)
    }

    @Test("file plus runtime of exactly 10 GiB fits a container image; one byte more does not")
    func imageBoundary() {
        let exact = LambdaPlanner.verdict(for: smallInput(fileBytes: 10_140 * mib, runtimeBytes: 100 * mib))
        #expect(exact.fitsContainerImage)
        let over = LambdaPlanner.verdict(for: smallInput(fileBytes: 10_140 * mib + 1, runtimeBytes: 100 * mib))
        #expect(!over.fitsContainerImage)
    }

    @Test("a file too big for /tmp still deploys as a container image, and the summary says so")
    func imageOnly() {
        let v = LambdaPlanner.verdict(for: smallInput(fileBytes: 10_139 * mib, runtimeBytes: 0))
        #expect(!v.fitsEphemeralStorage)
        #expect(v.ephemeralStorageMB == nil)
        #expect(v.fitsContainerImage)
        #expect(v.deployable)
        #expect(v.summary.contains("container image only"))
    }

    @Test("a file too big for both /tmp and an image does not deploy even when memory fits")
    func storageDoesNotFit() {
        let v = LambdaPlanner.verdict(for: smallInput(fileBytes: 11 * 1024 * mib))
        #expect(v.memoryMB == 174)
        #expect(!v.fitsEphemeralStorage)
        #expect(!v.fitsContainerImage)
        #expect(!v.deployable)
        #expect(v.summary == "does not fit: the 11,264 MB file fits neither /tmp (10,240 MB) "
            + "nor a container image with the runtime")
    }

    @Test("a requested 3,538 MB is used for the figures: 2 vCPUs, 3 visible cores, 16 tok/s decode")
    func requestedMemoryVerdict() {
        let v = LambdaPlanner.verdict(for: smallInput(requestedMemoryMB: 3_538))
        #expect(v.memoryMB == 3_538)
        #expect(v.vcpusAtMemory == 2.0)
        #expect(v.visibleCoresAtMemory == 3)
        #expect(close(v.decodeTokensPerSecondAtMemory, 16))
        #expect(v.memoryMargin.contains("requested 3,538 MB"))
        #expect(v.memoryMargin.contains("smallest that fits: 174 MB"))
    }

    @Test("an invalid requested memory is ignored and the margin text says so")
    func invalidRequestedMemory() {
        let v = LambdaPlanner.verdict(for: smallInput(requestedMemoryMB: 20_000))
        #expect(v.memoryMB == 174)
        #expect(v.memoryMargin.contains("20,000 MB ignored"))
    }

    @Test("the scaling model names its runs and says the bandwidth ceiling is not modelled")
    func scalingModelText() {
        let two = LambdaPlanner.verdict(for: smallInput()).scalingModel
        #expect(two.contains("1- and 2-thread"))
        #expect(two.contains("memory-bandwidth ceiling not modelled"))
        #expect(two.contains("s = 25 ms, p = 75 ms"))
        let one = LambdaPlanner.verdict(for: smallInput(decode: [1: 10])).scalingModel
        #expect(one.contains("only the 1-thread run measured"))
        #expect(one.contains("memory-bandwidth ceiling not modelled"))
    }

    @Test("with no usable speed the verdict projects nothing and does not deploy")
    func noSpeed() {
        let v = LambdaPlanner.verdict(for: smallInput(decode: [:]))
        #expect(v.memoryMB == 174)
        #expect(v.decodeTokensPerSecondAtMemory == nil)
        #expect(v.requestSecondsAtMemory == nil)
        #expect(!v.fitsTimeout)
        #expect(!v.deployable)
        #expect(v.scalingModel.hasPrefix("no positive decode tokens/s"))
        #expect(v.summary == "does not fit: no positive tokens/s measured to project a request time")
    }

    @Test("odd inputs (NaN load, zero throughput) still give a verdict that encodes as JSON")
    func oddInputsEncode() throws {
        let v = LambdaPlanner.verdict(for: smallInput(loadSeconds: .nan, s3: 0))
        #expect(v.downloadSeconds == 0)
        #expect(v.coldStartImageSeconds == 0)
        #expect(!v.initWithinLimit)
        let data = try JSONEncoder().encode(v)
        #expect(try JSONDecoder().decode(LambdaVerdict.self, from: data) == v)
    }
}
