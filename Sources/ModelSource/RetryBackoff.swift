/// Exponential backoff with jitter between retries: base, 2x base, 4x base ... capped
/// at 5 s, each scaled by a random factor in [0.5, 1] so parallel parts that failed
/// together (a throttled prefix, a dropped NAT mapping) do not retry in lockstep.
struct RetryBackoff: Sendable {
    let baseSeconds: Double
    static let capSeconds = 5.0

    func delaySeconds(beforeRetry retry: Int) -> Double {
        let exponent = Double(max(0, min(retry - 1, 30)))
        let ceiling = min(Self.capSeconds, baseSeconds * pow2(exponent))
        return ceiling * Double.random(in: 0.5...1.0)
    }

    func wait(beforeRetry retry: Int) async throws(CancellationError) {
        let seconds = delaySeconds(beforeRetry: retry)
        guard seconds > 0 else { return }
        do { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) } catch { throw CancellationError() }
    }

    private func pow2(_ exponent: Double) -> Double {
        var value = 1.0
        for _ in 0..<Int(exponent) { value *= 2 }
        return value
    }
}
