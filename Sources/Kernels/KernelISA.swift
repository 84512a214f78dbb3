import CKernels
import Foundation

/// The instruction-set level the kernels run at. Detected once at start-up from
/// cpuid; `LAMBDA_LLM_CPU=avx512vnni|avx512|avx2|generic` lowers it (to compare paths
/// or work around a bad host). Asking for more than the CPU has is clamped to what it
/// has, with a line on stderr, because running such code would crash the process.
public enum KernelISA: String, Sendable, CaseIterable, Comparable {
    case avx512vnni, avx512, avx2, generic

    /// The best level this CPU supports and that passes a start-up self-check against
    /// the portable path (the AVX-512 kernels cannot be tested on an AVX2-only build
    /// host, so a wrong one is caught here, reported, and stepped down from).
    public static let best: KernelISA = {
        var level = KernelISA(level: ck_cpu_isa())
        while level > .avx2 && ck_self_check(level.level) == 0 {
            let lower = allCases.first { $0 < level }!
            FileHandle.standardError.write(Data("lambda-llm: \(level.rawValue) kernels failed their self-check; using \(lower.rawValue)\n".utf8))
            level = lower
        }
        return level
    }()

    /// The level kernels use unless a caller passes another (tests do).
    public static let active: KernelISA = resolve(
        request: ProcessInfo.processInfo.environment["LAMBDA_LLM_CPU"],
        best: best,
        warn: { FileHandle.standardError.write(Data(("lambda-llm: " + $0 + "\n").utf8)) })

    /// Every level this CPU can run, best first: what tests iterate over.
    public static var supported: [KernelISA] { allCases.filter { $0 <= best } }

    public var isSupported: Bool { self <= KernelISA.best }

    /// The level passed to C; a level implies the ones below it.
    var level: Int32 {
        switch self {
        case .generic: return Int32(CK_ISA_GENERIC)
        case .avx2: return Int32(CK_ISA_AVX2)
        case .avx512: return Int32(CK_ISA_AVX512)
        case .avx512vnni: return Int32(CK_ISA_AVX512VNNI)
        }
    }

    init(level: Int32) {
        switch level {
        case Int32(CK_ISA_AVX512VNNI): self = .avx512vnni
        case Int32(CK_ISA_AVX512): self = .avx512
        case Int32(CK_ISA_AVX2): self = .avx2
        default: self = .generic
        }
    }

    public static func < (lhs: KernelISA, rhs: KernelISA) -> Bool { lhs.level < rhs.level }

    /// The level for an `LAMBDA_LLM_CPU` value: never above `best`.
    static func resolve(request: String?, best: KernelISA, warn: (String) -> Void) -> KernelISA {
        guard let request, !request.isEmpty else { return best }
        guard let wanted = KernelISA(rawValue: request.lowercased()) else {
            let names = allCases.map(\.rawValue).joined(separator: ", ")
            warn("LAMBDA_LLM_CPU=\(request) is not one of \(names); using \(best.rawValue)")
            return best
        }
        if wanted > best {
            warn("LAMBDA_LLM_CPU=\(request) needs instructions this CPU lacks; using \(best.rawValue)")
            return best
        }
        return wanted
    }
}
