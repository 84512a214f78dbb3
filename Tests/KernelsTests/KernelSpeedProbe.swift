import Foundation
import Testing
@testable import Kernels

/// Not a unit test: prints GB/s of weights read by matvec (and matmul for prefill) so
/// kernel changes can be compared. Run in release:
///   LAMBDA_LLM_KERNEL_BENCH=1 swift test -c release --filter KernelSpeedProbe
/// "hot" reuses one matrix (cache-resident when it fits); "cold" cycles through 512 MB.
/// Each figure is the best of several batches, to see past other processes on a shared host.
/// It measures `KernelISA.active`: pick another level with LAMBDA_LLM_CPU.
@Suite("KernelSpeedProbe", .serialized, .enabled(if: ProcessInfo.processInfo.environment["LAMBDA_LLM_KERNEL_BENCH"] == "1"))
struct KernelSpeedProbe {
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Best of `batches` timings of `body`, in seconds per run.
    static func best(batches: Int, runs: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<batches { best = min(best, seconds { for _ in 0..<runs { body() } } / Double(runs)) }
        return best
    }

    @Test("print the cost of an empty parallelFor")
    func dispatchOverhead() {
        for threads in [2, 4] {
            let pool = ThreadPool(threads: threads)
            let perCall = Self.best(batches: 20, runs: 2000) { pool.parallelFor(threads) { _ in } }
            print(String(format: "parallelFor(%d) with %d threads: %.2f us per call", threads, threads, perCall * 1e6))
        }
    }

    @Test("print matvec and matmul throughput per type, shape, thread count and ISA")
    func probe() {
        let types: [GGMLType] = [.q4_0, .q4_1, .q8_0, .q4_K, .q6_K, .f16]
        let shapes = [(rows: 1536, cols: 576), (rows: 1536, cols: 768), (rows: 4096, cols: 4096)]
        var rng = TestRandom(seed: 1)
        print("isa type rows x cols threads: hot GB/s | cold GB/s | matmul(n=32) GB/s-equivalent")
        for isa in [KernelISA.active] {
            for type in types {
                for shape in shapes where shape.cols % type.blockSize == 0 {
                    let rowBytes = type.byteCount(elements: shape.cols)!
                    let bytes = rowBytes * shape.rows
                    let copies = max(1, (512 << 20) / bytes)
                    let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes * copies, alignment: 64)
                    defer { storage.deallocate() }
                    let one = MatMulTests.weights(type, rows: shape.rows, cols: shape.cols, rng: &rng)
                    for c in 0..<copies { one.withUnsafeBytes { (storage + c * bytes).copyMemory(from: $0.baseAddress!, byteCount: bytes) } }
                    let n = 32
                    let x = rng.floats(shape.cols * n)
                    var y = [Float](repeating: 0, count: shape.rows * n)
                    for threads in [1, 2] {
                        let mm = MatMul(pool: ThreadPool(threads: threads), isa: isa)
                        let hotW = WeightMatrix(base: storage, type: type, rows: shape.rows, cols: shape.cols)
                        let hot = Self.best(batches: 30, runs: max(3, 10_000_000 / bytes)) { mm.matvec(hotW, x, &y) }
                        var c = 0
                        let cold = Self.best(batches: 3, runs: copies) {
                            mm.matvec(WeightMatrix(base: storage + c * bytes, type: type, rows: shape.rows, cols: shape.cols), x, &y)
                            c = (c + 1) % copies
                        }
                        let batched = Self.best(batches: 5, runs: max(1, 5_000_000 / bytes)) { mm.matmul(hotW, x, count: n, &y) }
                        let gb = Double(bytes) / 1e9
                        print(String(format: "%@ %@ %5dx%-5d %dt: hot %6.2f | cold %6.2f | matmul %6.2f",
                                     isa.rawValue, type.description, shape.rows, shape.cols, threads,
                                     gb / hot, gb / cold, gb * Double(n) / batched))
                    }
                }
            }
        }
    }
}
