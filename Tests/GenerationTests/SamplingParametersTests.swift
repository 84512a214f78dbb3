import Foundation
import Generation
import Testing

@Suite("Sampling parameters")
struct SamplingParametersTests {
    @Test("defaults follow llama.cpp and validate")
    func defaults() throws {
        let p = SamplingParameters()
        #expect(p.temperature == 0.8)
        #expect(p.topK == 40)
        #expect(p.topP == 0.95)
        #expect(p.minP == 0.05)
        #expect(p.repetitionPenalty == 1.0)
        #expect(p.repetitionWindow == 64)
        #expect(p.seed == nil)
        try p.validate()
        try SamplingParameters.greedy.validate()
    }

    @Test("out-of-range values throw an error naming the field and its range",
          arguments: [
              (SamplingParameters(temperature: -0.1), SamplingError.temperatureOutOfRange(-0.1), "temperature"),
              (SamplingParameters(temperature: 10.5), .temperatureOutOfRange(10.5), "temperature"),
              (SamplingParameters(topK: -1), .topKNegative(-1), "top_k"),
              (SamplingParameters(topP: 0), .topPOutOfRange(0), "top_p"),
              (SamplingParameters(topP: 1.01), .topPOutOfRange(1.01), "top_p"),
              (SamplingParameters(minP: -0.01), .minPOutOfRange(-0.01), "min_p"),
              (SamplingParameters(minP: 1.5), .minPOutOfRange(1.5), "min_p"),
              (SamplingParameters(repetitionPenalty: 0), .repetitionPenaltyOutOfRange(0), "repetition_penalty"),
              (SamplingParameters(repetitionPenalty: -1), .repetitionPenaltyOutOfRange(-1), "repetition_penalty"),
              (SamplingParameters(repetitionWindow: -1), .repetitionWindowOutOfRange(-1), "repeat_last_n"),
          ])
    func rejectsOutOfRange(_ parameters: SamplingParameters, _ expected: SamplingError, _ field: String) {
        #expect(throws: expected) { try parameters.validate() }
        #expect(expected.description.contains(field))
    }

    @Test("NaN and infinite values are rejected")
    func rejectsNaN() {
        #expect(throws: SamplingError.self) { try SamplingParameters(temperature: .nan).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(topP: .nan).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(minP: .nan).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(repetitionPenalty: .nan).validate() }
        #expect(throws: SamplingError.self) { try SamplingParameters(repetitionPenalty: .infinity).validate() }
    }

    @Test("the edges of each range are accepted")
    func acceptsEdges() throws {
        try SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0).validate()
        try SamplingParameters(temperature: 10, topP: 1e-6, minP: 1, repetitionPenalty: 1e-3, repetitionWindow: 0).validate()
    }

    @Test("decoding fills missing keys with defaults and round-trips")
    func codable() throws {
        let partial = try JSONDecoder().decode(SamplingParameters.self, from: Data(#"{"temperature":0.2,"seed":7}"#.utf8))
        #expect(partial == SamplingParameters(temperature: 0.2, seed: 7))
        let full = SamplingParameters(temperature: 1.1, topK: 5, topP: 0.5, minP: 0.1, repetitionPenalty: 1.3, repetitionWindow: 32, seed: 99)
        let decoded = try JSONDecoder().decode(SamplingParameters.self, from: JSONEncoder().encode(full))
        #expect(decoded == full)
    }
}
