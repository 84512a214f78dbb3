import CKernels
import Testing
@testable import Kernels

@Suite("KernelISA")
struct KernelISATests {
    @Test("LAMBDA_LLM_CPU lowers the level, and asking for more than the CPU has is clamped with a warning")
    func resolve() {
        var warnings: [String] = []
        let warn = { (line: String) in warnings.append(line) }
        #expect(KernelISA.resolve(request: nil, best: .avx2, warn: warn) == .avx2)
        #expect(KernelISA.resolve(request: "generic", best: .avx2, warn: warn) == .generic)
        #expect(KernelISA.resolve(request: "AVX2", best: .avx512vnni, warn: warn) == .avx2)
        #expect(warnings.isEmpty)
        #expect(KernelISA.resolve(request: "avx512", best: .avx2, warn: warn) == .avx2)
        #expect(warnings.count == 1 && warnings[0].contains("lacks"))
        #expect(KernelISA.resolve(request: "sse9", best: .avx2, warn: warn) == .avx2)
        #expect(warnings.count == 2 && warnings[1].contains("avx512vnni, avx512, avx2, generic"))
    }

    @Test("every level this CPU runs passes the start-up self-check against the portable path",
          arguments: KernelISA.supported)
    func selfCheck(isa: KernelISA) {
        #expect(ck_self_check(isa.level) == 1)
    }

    @Test("the active level is one the CPU supports, and the supported list is ordered best first")
    func detection() {
        #expect(KernelISA.active.isSupported)
        #expect(KernelISA.supported.first == KernelISA.best)
        #expect(KernelISA.supported.last == .generic)
        #expect(KernelISA.supported == KernelISA.supported.sorted(by: >))
    }
}
