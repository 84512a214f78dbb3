import Foundation
import Study
import Testing

@Suite struct StudyConclusionTests {
    @Test("the paragraph states the machine, the request and each variant's figures")
    func statesFigures() {
        let text = StudyConclusion.compose(StudyFixtures.results())
        #expect(text.hasPrefix("On Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz, 2 threads, "
            + "for the standard request (128 prompt + 128 generated tokens): "))
        #expect(text.contains("the smallest variant, INT4-sym (3.92 GB), takes 28.7 s here at 4.35 GB peak memory "
            + "and needs 4,420 MB of Lambda memory, where it answers in 24.6 s (12.1 s at 10,240 MB)"))
        #expect(text.contains("INT8 (7.16 GB) takes 46.1 s here"))
        #expect(text.contains("FP16 (13.48 GB) takes 89.6 s here at 13.91 GB peak memory and does not run on Lambda"))
        #expect(!text.contains("\n"), "one paragraph")
    }

    @Test("accuracy is stated against the reference")
    func statesAccuracy() {
        let text = StudyConclusion.compose(StudyFixtures.results())
        #expect(text.contains("Accuracy against FP16 on 1,024 corpus tokens: "
            + "INT8 changes perplexity by +0.02 (7.12 → 7.14), mean KL 0.0021 nats, 98.1% top-1 agreement; "
            + "INT4-sym changes perplexity by +0.49 (7.12 → 7.61)"))
    }

    @Test("with meaningful accuracy the cheapest variant within the KL limit is recommended")
    func recommendsWithinDivergenceLimit() {
        let r = StudyFixtures.results()
        // INT4-sym is cheaper but drifts (KL 0.148 > 0.1), so INT8 wins.
        #expect(StudyConclusion.recommendation(r).variant?.type == "int8")
        let text = StudyConclusion.compose(r)
        #expect(text.contains("Best choice for Lambda: INT8, because it is the cheapest deployable variant whose "
            + "mean KL divergence from FP16 is at most 0.1 nats (0.0021): "
            + "$2.68 per 1,000 requests on x86_64 ($2.15 on arm64) at 8,321 MB"))
        #expect(text.contains("cold start from S3 ~71.2 s (68.3 s download at 100 MB/s + 2.90 s load), "
            + "which exceeds the 10 s init phase: load the model in the first invocation or ship it in a container image "
            + "(2.90 s to load from the image)."))
    }

    @Test("a container image is not offered as the way out when loading from it also overruns init")
    func slowImageLoad() {
        var r = StudyFixtures.results()
        r.variants[1].verdict?.coldStartImageSeconds = 12.5
        let text = StudyConclusion.compose(r)
        #expect(text.contains("load the model in the first invocation (even from a container image it takes 12.5 s to load)."))
        #expect(!text.contains("ship it in a container image"))
    }

    @Test("when the cheapest variant is also close enough it is recommended")
    func recommendsCheapestWhenClose() {
        var r = StudyFixtures.results()
        r.variants[2].accuracy?.meanKLDivergence = 0.05
        #expect(StudyConclusion.recommendation(r).variant?.type == "int4-sym")
        #expect(StudyConclusion.compose(r).contains("Best choice for Lambda: INT4-sym, because"))
        #expect(StudyConclusion.compose(r).contains("$1.77 per 1,000 requests on x86_64 ($1.42 on arm64) at 4,420 MB"))
    }

    @Test("when no deployable variant is close enough the cheapest is chosen and the paragraph says why")
    func fallsBackToCheapest() {
        var r = StudyFixtures.results()
        r.variants[1].accuracy?.meanKLDivergence = 0.2
        #expect(StudyConclusion.recommendation(r).variant?.type == "int4-sym")
        #expect(StudyConclusion.compose(r).contains("no deployable variant stays within 0.1 nats of FP16"))
    }

    @Test("with synthetic weights accuracy is called not meaningful and cost alone decides")
    func syntheticChoosesByCost() {
        let r = StudyFixtures.results(synthetic: true)
        let text = StudyConclusion.compose(r)
        #expect(text.contains("Accuracy: not meaningful (synthetic weights)."))
        #expect(!text.contains("perplexity"))
        #expect(text.contains("Best choice for Lambda: INT4-sym, because it is the cheapest deployable variant "
            + "(accuracy is not meaningful with synthetic weights)"))
    }

    @Test("a cold start inside the init phase is called so")
    func coldStartWithinInit() {
        var r = StudyFixtures.results()
        r.variants[1].verdict?.downloadSeconds = 5.5
        r.variants[1].verdict?.coldStartS3Seconds = 8.4
        r.variants[1].verdict?.initWithinLimit = true
        let text = StudyConclusion.compose(r)
        #expect(text.contains("cold start from S3 ~8.40 s (5.50 s download at 100 MB/s + 2.90 s load), within the 10 s init phase."))
        #expect(!text.contains("exceeds the 10 s init phase"))
    }

    @Test("when nothing is deployable the paragraph says so and recommends nothing")
    func nothingDeployable() {
        var r = StudyFixtures.results()
        for i in r.variants.indices { r.variants[i].verdict?.deployable = false }
        #expect(StudyConclusion.recommendation(r).variant == nil)
        let text = StudyConclusion.compose(r)
        #expect(text.contains("Nothing is deployable on Lambda (FP16: does not fit: peak RSS 13.91 GB exceeds 10,240 MB; "))
        #expect(!text.contains("Best choice"))
    }

    @Test("a study without variants concludes so")
    func noVariants() {
        var r = StudyFixtures.results()
        r.variants = []
        #expect(StudyConclusion.compose(r) == "The study measured no variants, so there is nothing to conclude.")
    }
}
