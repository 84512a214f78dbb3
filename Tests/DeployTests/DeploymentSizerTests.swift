import Deploy
import LambdaLimits
import Study
import Testing

@Suite struct DeploymentSizerTests {
    let mib = DeployFixtures.mib

    @Test("timeout is 3 x the request + the cold start, rounded up, within 30...900 s")
    func timeoutRule() {
        #expect(DeploymentSizer.timeoutSeconds(requestSeconds: 17.52, coldStartSeconds: 41.9) == 95)
        #expect(DeploymentSizer.timeoutSeconds(requestSeconds: 1, coldStartSeconds: 0.1) == 30)
        #expect(DeploymentSizer.timeoutSeconds(requestSeconds: 400, coldStartSeconds: 0) == 900)
        #expect(DeploymentSizer.timeoutSeconds(requestSeconds: .infinity, coldStartSeconds: 0) == 900)
        #expect(DeploymentSizer.timeoutSeconds(requestSeconds: .nan, coldStartSeconds: .nan) == 30)
    }

    @Test("a study verdict gives memory, /tmp and timeout; S3 adds the download to the timeout")
    func fromStudy() throws {
        let variant = DeployFixtures.variant()
        let s3 = try DeploymentSizer.fromStudy(variant: variant, matchedByName: false, studyPath: "r.json",
                                               settings: DeployFixtures.settings, source: .s3,
                                               fileBytes: variant.fileBytes, kvCache: nil)
        #expect(s3.memoryMB.value == 4613)
        #expect(s3.ephemeralStorageMB.value == 4169)
        #expect(s3.timeoutSeconds.value == 95)
        #expect(!s3.isEstimate)
        #expect(s3.basis.contains("variant int4-asym") && s3.basis.contains("names differ"))
        let image = try DeploymentSizer.fromStudy(variant: variant, matchedByName: true, studyPath: "r.json",
                                                  settings: DeployFixtures.settings, source: .image,
                                                  fileBytes: variant.fileBytes, kvCache: nil)
        #expect(image.ephemeralStorageMB.value == 512)
        #expect(image.timeoutSeconds.value == 54)  // ceil(3 x 17.52 + 0.6)
    }

    @Test("the KV cache note says how much more a full context needs")
    func contextNote() throws {
        let kv = KVCacheEstimate(layers: 32, contextLength: 4096, modelContextLength: 4096, valuesPerPosition: 8192)
        let sizing = try DeploymentSizer.fromStudy(variant: DeployFixtures.variant(), matchedByName: true, studyPath: "r.json",
                                                   settings: DeployFixtures.settings, source: .image,
                                                   fileBytes: 1, kvCache: kv)
        // 32 x 8192 x 2 (F16) = 0.5 MiB per position; 4096 - 256 positions more.
        #expect(sizing.notes.contains { $0.contains("1920.0 MB more") })
    }

    @Test("variants match by size; the name breaks ties; no match lists what the study has")
    func matching() throws {
        let results = DeployFixtures.results([
            DeployFixtures.variant(type: "int8", file: "m/a-int8.gguf", fileBytes: 100),
            DeployFixtures.variant(type: "int4-sym", file: "m/a-int4-sym.gguf", fileBytes: 50),
            DeployFixtures.variant(type: "int4-asym", file: "m/a-int4-asym.gguf", fileBytes: 50),
        ])
        let bySize = try DeploymentSizer.matchVariant(in: results, fileBytes: 100, fileName: "mine.gguf", studyPath: "r")
        #expect(bySize.variant.type == "int8" && !bySize.byName)
        let byName = try DeploymentSizer.matchVariant(in: results, fileBytes: 50, fileName: "a-int4-asym.gguf", studyPath: "r")
        #expect(byName.variant.type == "int4-asym" && byName.byName)
        #expect(throws: PackageError.self) {
            try DeploymentSizer.matchVariant(in: results, fileBytes: 50, fileName: "mine.gguf", studyPath: "r")
        }
        do {
            _ = try DeploymentSizer.matchVariant(in: results, fileBytes: 7, fileName: "mine.gguf", studyPath: "r")
            Issue.record("expected no match")
        } catch {
            #expect(error.description.contains("int8 a-int8.gguf (100 bytes)"))
        }
    }

    @Test("a verdict with no memory setting is refused: the model needs more than 10,240 MB")
    func studyTooLarge() {
        let variant = DeployFixtures.variant(peakRSS: 13 << 30, verdict: DeployFixtures.verdict(memoryMB: nil))
        #expect {
            try DeploymentSizer.fromStudy(variant: variant, matchedByName: true, studyPath: "r.json",
                                          settings: DeployFixtures.settings, source: .image, fileBytes: 1, kvCache: nil)
        } throws: { error in
            guard case PackageError.memoryTooLarge(let needed, 10_240, _) = error else { return false }
            return needed > 10_240
        }
        let noVerdict = DeployFixtures.variant(verdict: nil)
        #expect(throws: PackageError.noVerdict(study: "r.json", variant: "int4-asym")) {
            try DeploymentSizer.fromStudy(variant: noVerdict, matchedByName: true, studyPath: "r.json",
                                          settings: DeployFixtures.settings, source: .image, fileBytes: 1, kvCache: nil)
        }
    }

    @Test("without a study: peak = file + KV cache through the planner's margin, timeout 300 s, said to be an estimate")
    func estimate() throws {
        // SmolLM2-135M: 30 layers, 3 KV heads x 64 x 2 = 384 values, 4096 positions.
        let kv = KVCacheEstimate(layers: 30, contextLength: 4096, modelContextLength: 8192, valuesPerPosition: 384)
        #expect(kv.bytes == 94_371_840)
        let sizing = try DeploymentSizer.estimate(fileBytes: 98_362_432, kvCache: kv, source: .s3, modelPath: "/m/s.gguf")
        #expect(sizing.memoryMB.value == LambdaPlanner.memorySetting(peakRSSBytes: 98_362_432 + 94_371_840))
        #expect(sizing.memoryMB.value == 267)
        #expect(sizing.ephemeralStorageMB.value == 512)
        #expect(sizing.timeoutSeconds.value == 300)
        #expect(sizing.isEstimate)
        #expect(sizing.memoryMB.reason.contains("estimate") && sizing.memoryMB.reason.contains("lambda-llm study --model /m/s.gguf"))
    }

    @Test("an estimate over 10,240 MB, or a file over /tmp's 10,240 MB from S3, is refused")
    func estimateTooLarge() {
        let kv = KVCacheEstimate(layers: 32, contextLength: 4096, modelContextLength: 4096, valuesPerPosition: 8192)
        #expect(throws: PackageError.self) {
            // 8 GiB of weights and 2 GiB of F16 KV cache, before the planner's margin.
            try DeploymentSizer.estimate(fileBytes: 8 << 30, kvCache: kv, source: .image, modelPath: "m")
        }
        let needed = LambdaPlanner.ephemeralStorageNeededMB(fileBytes: 11 << 30)
        #expect(needed > 10_240)
        #expect(throws: PackageError.storageTooLarge(neededMB: needed, limitMB: 10_240)) {
            try DeploymentSizer.ephemeralStorage(source: .s3, fileBytes: 11 << 30)
        }
        #expect((try? DeploymentSizer.ephemeralStorage(source: .image, fileBytes: 11 << 30))?.value == 512)
    }

    @Test("--memory and --timeout replace the plan; a memory below the plan leaves a note; invalid values are refused")
    func overrides() throws {
        let kv = KVCacheEstimate(layers: 2, contextLength: 128, modelContextLength: 128, valuesPerPosition: 32)
        let planned = try DeploymentSizer.estimate(fileBytes: 500 * mib, kvCache: kv, source: .image, modelPath: "m")
        #expect(planned.memoryMB.value > 256)
        let bigger = try DeploymentSizer.overriding(planned, memoryMB: 2048, timeoutSeconds: 60)
        #expect(bigger.memoryMB.value == 2048 && bigger.timeoutSeconds.value == 60 && bigger.notes.isEmpty)
        let smaller = try DeploymentSizer.overriding(planned, memoryMB: 256, timeoutSeconds: nil)
        #expect(smaller.memoryMB.value == 256)
        #expect(smaller.notes.count == 1 && smaller.notes[0].contains("may run out of memory"))
        #expect(throws: PackageError.self) { try DeploymentSizer.overriding(planned, memoryMB: 10_241, timeoutSeconds: nil) }
        #expect(throws: PackageError.self) { try DeploymentSizer.overriding(planned, memoryMB: nil, timeoutSeconds: 901) }
    }
}
