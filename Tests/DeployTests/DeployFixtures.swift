import Deploy
import Foundation
import LambdaLimits
import Study
import TestSupport

/// Study results and verdicts shaped like `lambda-llm study` writes them, for sizing tests.
enum DeployFixtures {
    static let mib: Int64 = 1 << 20

    static func verdict(memoryMB: Int? = 4613, storageMB: Int? = 4169, requestSeconds: Double? = 17.522944293023667,
                        coldStartS3: Double = 41.9, coldStartImage: Double = 0.6, fitsTimeout: Bool = true) -> LambdaVerdict {
        LambdaVerdict(
            fitsEphemeralStorage: storageMB != nil, ephemeralStorageMB: storageMB, memoryMB: memoryMB,
            memoryMargin: LambdaPlanner.memoryMarginDescription, vcpusAtMemory: 2.6, visibleCoresAtMemory: 3,
            decodeTokensPerSecondAtMemory: 9.5, requestSecondsAtMemory: requestSeconds,
            decodeTokensPerSecondAtMaximum: 20, requestSecondsAtMaximum: 8, scalingModel: "Amdahl",
            fitsTimeout: fitsTimeout, downloadSeconds: coldStartS3 - coldStartImage, coldStartS3Seconds: coldStartS3,
            coldStartImageSeconds: coldStartImage, initWithinLimit: false, costPer1000RequestsX86: 1.32,
            costPer1000RequestsArm64: 1.06, containerImageBytes: 4_432_695_264, fitsContainerImage: true, fitsZip: false,
            deployable: memoryMB != nil, summary: "fits")
    }

    static func variant(type: String = "int4-asym", file: String = "study-out/models/df18-int4-asym.gguf",
                        fileBytes: Int64 = 4_327_837_664, peakRSS: Int64 = 4_100_000_000,
                        verdict: LambdaVerdict? = DeployFixtures.verdict()) -> VariantResult {
        VariantResult(type: type, studyName: type.uppercased(), file: file, fileBytes: fileBytes, conversionSeconds: 1,
                      runs: [ThreadRun(threads: 1, loadSeconds: 0.6, timeToFirstTokenSeconds: 1, prefillTokensPerSecond: 50,
                                       decodeTokensPerSecond: 5, decodeTokensPerSecondSpread: [4.9, 5.1],
                                       requestSeconds: 30, peakRSSBytes: peakRSS)],
                      accuracy: nil, verdict: verdict)
    }

    static let settings = StudySettings(types: ["int8", "int4-asym"], threadCounts: [1, 2], promptTokens: 128,
                                        genTokens: 128, repetitions: 3, corpus: nil, evalTokens: 0,
                                        s3MegabytesPerSecond: 100, lambdaMemoryMB: nil)

    static func results(_ variants: [VariantResult]) -> StudyResults {
        StudyResults(createdAt: "2026-11-27T00:00:00Z",
                     machine: MachineDescription(cpuModel: "test", cores: 2, memoryBytes: 1 << 34, operatingSystem: "Linux",
                                                 architecture: "x86_64", kernelISA: "avx2", commit: nil),
                     settings: settings,
                     source: SourceDescription(path: "m.gguf", bytes: 1, format: "GGUF", synthetic: false, notes: []),
                     variants: variants)
    }

    static func writeResults(_ results: StudyResults) throws -> String {
        let path = try GGUFTestFiles.temporaryDirectory() + "/results.json"
        try StudyReport.json(results).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A tiny Llama GGUF: 2 layers, context 128, 2 KV heads of 8 dimensions -> 256 bytes of KV per position.
    static func tinyModel(name: String = "tiny-llama.gguf") throws -> String {
        let original = try TinyLlamaFile().write()
        guard name != "tiny-llama.gguf" else { return original }
        let renamed = (original as NSString).deletingLastPathComponent + "/" + name
        try FileManager.default.moveItem(atPath: original, toPath: renamed)
        return renamed
    }

    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.int64Value ?? -1
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
