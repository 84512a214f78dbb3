import Foundation

/// Writes the study's one-paragraph conclusion from its figures: what each variant costs
/// in memory and time here and on Lambda, what quantization does to accuracy, and which
/// variant to deploy by a stated rule. Every number in the paragraph comes from the results.
public enum StudyConclusion {
    /// Largest mean KL divergence (nats) from the reference that still counts as "same
    /// answers" when choosing a variant; beyond it the cheaper variant is a different model.
    public static let divergenceLimit = 0.1

    public static func compose(_ r: StudyResults) -> String {
        guard !r.variants.isEmpty else { return "The study measured no variants, so there is nothing to conclude." }
        return [measuredSentence(r), accuracySentence(r), recommendationSentence(r)].joined(separator: " ")
    }

    // MARK: Sentences

    private static func measuredSentence(_ r: StudyResults) -> String {
        let threads = r.variants.flatMap(\.runs).map(\.threads).max()
        let bySize = r.variants.sorted { $0.fileBytes < $1.fileBytes }
        var clauses: [String] = []
        for (index, v) in bySize.enumerated() {
            var clause = index == 0 && bySize.count > 1
                ? "the smallest variant, \(v.studyName) (\(Figures.gb(v.fileBytes)) GB),"
                : "\(v.studyName) (\(Figures.gb(v.fileBytes)) GB)"
            if let threads, let run = v.runs.first(where: { $0.threads == threads }) {
                clause += " takes \(Figures.seconds(run.requestSeconds)) s here at \(Figures.gb(v.peakRSSBytes)) GB peak memory"
            } else {
                clause += " was not timed here"
            }
            clause += " and " + lambdaClause(v)
            clauses.append(clause)
        }
        let setting = threads.map(Figures.threads) ?? "no timed runs"
        return "On \(r.machine.cpuModel), \(setting), for the standard request (\(r.settings.promptTokens) prompt + "
            + "\(r.settings.genTokens) generated tokens): " + clauses.joined(separator: "; ") + "."
    }

    private static func lambdaClause(_ v: VariantResult) -> String {
        guard let d = v.verdict else { return "was not judged for Lambda" }
        guard d.deployable, let memory = d.memoryMB else { return "does not run on Lambda (\(d.summary))" }
        var clause = "needs \(Figures.grouped(memory)) MB of Lambda memory"
        if let atMemory = d.requestSecondsAtMemory {
            clause += ", where it answers in \(Figures.seconds(atMemory)) s"
            if let atMaximum = d.requestSecondsAtMaximum {
                clause += " (\(Figures.seconds(atMaximum)) s at \(Figures.grouped(StudyReport.maximumMemoryMB)) MB)"
            }
        }
        return clause
    }

    private static func accuracySentence(_ r: StudyResults) -> String {
        let measured = r.variants.compactMap(\.accuracy)
        guard let first = measured.first else {
            return r.source.synthetic ? "Accuracy: not meaningful (synthetic weights)." : "Accuracy: not measured."
        }
        guard measured.allSatisfy(\.meaningful) else { return "Accuracy: not meaningful (synthetic weights)." }
        let reference = r.variants.first { $0.type == first.reference }
        let referencePerplexity = reference?.accuracy?.perplexity
        var clauses: [String] = []
        for v in r.variants where v.type != first.reference {
            guard let a = v.accuracy else { continue }
            var clause = "\(v.studyName) "
            if let base = referencePerplexity {
                let delta = a.perplexity - base
                clause += "changes perplexity by \(delta >= 0 ? "+" : "")\(Figures.perplexity(delta)) "
                    + "(\(Figures.perplexity(base)) → \(Figures.perplexity(a.perplexity)))"
            } else {
                clause += "has perplexity \(Figures.perplexity(a.perplexity))"
            }
            clause += ", mean KL \(Figures.divergence(a.meanKLDivergence)) nats, "
                + "\(Figures.percent(a.top1Agreement)) top-1 agreement"
            clauses.append(clause)
        }
        let name = reference?.studyName ?? first.reference
        guard !clauses.isEmpty else {
            return "Accuracy: \(name) has perplexity \(Figures.perplexity(first.perplexity)) on "
                + "\(Figures.grouped(first.tokens)) corpus tokens; no other variant was scored."
        }
        return "Accuracy against \(name) on \(Figures.grouped(first.tokens)) corpus tokens: "
            + clauses.joined(separator: "; ") + "."
    }

    private static func recommendationSentence(_ r: StudyResults) -> String {
        let deployable = r.variants.filter { $0.verdict?.deployable == true }
        guard !deployable.isEmpty else {
            let reasons = r.variants.map { "\($0.studyName): \($0.verdict?.summary ?? "not judged")" }
            return "Nothing is deployable on Lambda (" + reasons.joined(separator: "; ") + ")."
        }
        let choice = recommendation(r)
        guard let pick = choice.variant, let d = pick.verdict else { return "" }
        var sentence = "Best choice for Lambda: \(pick.studyName), because " + choice.reason + ": "
        if let x86 = d.costPer1000RequestsX86 {
            sentence += "\(Figures.usd(x86)) per 1,000 requests on x86_64"
            if let arm = d.costPer1000RequestsArm64 { sentence += " (\(Figures.usd(arm)) on arm64)" }
        } else {
            sentence += "cost not computed"
        }
        if let memory = d.memoryMB { sentence += " at \(Figures.grouped(memory)) MB" }
        let load = max(0, d.coldStartS3Seconds - d.downloadSeconds)
        sentence += "; cold start from S3 ~\(Figures.seconds(d.coldStartS3Seconds)) s "
            + "(\(Figures.seconds(d.downloadSeconds)) s download at \(Figures.plain(r.settings.s3MegabytesPerSecond)) MB/s"
            + " + \(Figures.seconds(load)) s load)"
        let initLimit = Figures.plain(StudyReport.initPhaseSeconds)
        if d.initWithinLimit {
            sentence += ", within the \(initLimit) s init phase."
        } else {
            let image = Figures.seconds(d.coldStartImageSeconds)
            sentence += ", which exceeds the \(initLimit) s init phase: load the model in the first invocation"
            sentence += d.coldStartImageSeconds <= StudyReport.initPhaseSeconds
                ? " or ship it in a container image (\(image) s to load from the image)."
                : " (even from a container image it takes \(image) s to load)."
        }
        return sentence
    }

    // MARK: Rule

    /// The variant to deploy and why, in words for the paragraph. Among deployable
    /// variants, the cheapest per 1,000 requests (x86_64) whose mean KL divergence from the
    /// reference is within `divergenceLimit`, when accuracy is meaningful; otherwise the
    /// cheapest. Ties go to the faster, then the smaller variant.
    public static func recommendation(_ r: StudyResults) -> (variant: VariantResult?, reason: String) {
        let deployable = r.variants.filter { $0.verdict?.deployable == true }
        guard !deployable.isEmpty else { return (nil, "nothing is deployable") }
        let measured = r.variants.compactMap(\.accuracy)
        let limit = Figures.plain(divergenceLimit)
        if let first = measured.first, measured.allSatisfy(\.meaningful) {
            let name = r.variants.first { $0.type == first.reference }?.studyName ?? first.reference
            let close = deployable.filter { ($0.accuracy?.meanKLDivergence).map { $0 <= divergenceLimit } ?? false }
            if let pick = cheapest(close), let kl = pick.accuracy?.meanKLDivergence {
                return (pick, "it is the cheapest deployable variant whose mean KL divergence from \(name) is at most "
                    + "\(limit) nats (\(Figures.divergence(kl)))")
            }
            return (cheapest(deployable), "no deployable variant stays within \(limit) nats of \(name), "
                + "so it is chosen as the cheapest deployable variant")
        }
        let why = measured.isEmpty && !r.source.synthetic
            ? "accuracy was not measured" : "accuracy is not meaningful with synthetic weights"
        return (cheapest(deployable), "it is the cheapest deployable variant (\(why))")
    }

    private static func cheapest(_ variants: [VariantResult]) -> VariantResult? {
        variants.min { a, b in
            let keyA = (a.verdict?.costPer1000RequestsX86 ?? .infinity, a.verdict?.requestSecondsAtMemory ?? .infinity)
            let keyB = (b.verdict?.costPer1000RequestsX86 ?? .infinity, b.verdict?.requestSecondsAtMemory ?? .infinity)
            if keyA != keyB { return keyA < keyB }
            return a.fileBytes < b.fileBytes
        }
    }
}
