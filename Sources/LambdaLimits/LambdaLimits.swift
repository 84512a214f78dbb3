/// AWS Lambda's limits and prices in one table, each number with its source, so a
/// change at AWS is a one-line change here. Read by the study's planner, the runtime
/// and the packager; knows nothing about models.
///
/// Sizes are Lambda's "MB", which are mebibytes (2^20 bytes), everywhere.

/// The two instruction sets Lambda offers; they differ in price per GB-second.
public enum LambdaArchitecture: String, Sendable, CaseIterable, Codable {
    case x86_64
    case arm64
}

/// One band of the measured core-count table: functions up to `maxMemoryMB` see `cores` CPUs.
public struct VisibleCoreBand: Sendable, Equatable {
    public var maxMemoryMB: Int
    public var cores: Int

    public init(maxMemoryMB: Int, cores: Int) {
        self.maxMemoryMB = maxMemoryMB
        self.cores = cores
    }
}

public struct LambdaLimits: Sendable, Equatable {
    /// Lambda's "MB".
    public static let bytesPerMB: Int64 = 1 << 20

    /// The limits as AWS documents them (late 2026). Properties are `var` so a test or a
    /// what-if can change one number on a copy.
    public static let current = LambdaLimits()

    // MARK: Memory and CPU

    // source: docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html, configuration-memory.html
    public var minMemoryMB = 128
    // source: docs gettingstarted-limits ("128 MB to 10,240 MB")
    public var maxMemoryMB = 10_240
    // source: docs configuration-memory ("in 1-MB increments")
    public var memoryStepMB = 1
    // source: docs configuration-memory ("at 1,769 MB, a function has the equivalent of one vCPU")
    public var mbPerVCPU = 1_769
    // source: AWS blog "functions with up to 10 GB of memory and 6 vCPUs"
    public var maxVCPUs = 6
    /// Cores `nproc` reports, by memory. Measured by others, not promised by AWS.
    // source: public repo rwnx/lambda-cpuinfo (128-3008: 2; 3009-5307: 3; 5308-7076: 4; 7077-8845: 5; 8846-10240: 6)
    public var visibleCoreBands: [VisibleCoreBand] = [
        VisibleCoreBand(maxMemoryMB: 3_008, cores: 2),
        VisibleCoreBand(maxMemoryMB: 5_307, cores: 3),
        VisibleCoreBand(maxMemoryMB: 7_076, cores: 4),
        VisibleCoreBand(maxMemoryMB: 8_845, cores: 5),
        VisibleCoreBand(maxMemoryMB: 10_240, cores: 6),
    ]

    // MARK: Storage and packaging

    // source: docs gettingstarted-limits (/tmp "512 MB to 10,240 MB")
    public var minEphemeralStorageMB = 512
    // source: docs gettingstarted-limits
    public var maxEphemeralStorageMB = 10_240
    // source: aws.amazon.com/lambda/pricing (512 MB of ephemeral storage at no extra cost)
    public var freeEphemeralStorageMB = 512
    // source: docs gettingstarted-limits (50 MB zipped, direct upload)
    public var zipUploadBytes: Int64 = 50 * LambdaLimits.bytesPerMB
    // source: docs gettingstarted-limits (250 MB unzipped, including layers)
    public var zipUnzippedBytes: Int64 = 250 * LambdaLimits.bytesPerMB
    // source: docs gettingstarted-limits
    public var maxLayers = 5
    /// AWS says "10 GB" uncompressed; the "image exceeds 10 GiB" errors people hit say it is binary.
    // source: docs gettingstarted-limits (container image code package size)
    public var containerImageBytes: Int64 = 10 * 1024 * 1024 * 1024

    // MARK: The OS-only runtime (provided.al2023)

    /// The highest glibc symbol version a binary may need to load on provided.al2023.
    // source: docs.aws.amazon.com/linux/al2023/ug/core-glibc.html (core packages: "glibc 2.34")
    public var amazonLinux2023GlibcVersion = "2.34"
    /// The highest libstdc++ symbol version on provided.al2023: the runtime of its GCC 11.
    // source: docs.aws.amazon.com/linux/al2023/ug/core-glibc.html (core packages: "gcc 11.2");
    // gcc.gnu.org/onlinedocs/libstdc++/manual/abi.html (GCC 11.1.0: libstdc++.so.6.0.29, GLIBCXX_3.4.29)
    public var amazonLinux2023LibstdcxxVersion = "3.4.29"
    /// The runtime identifier of a zip-packaged custom runtime on Amazon Linux 2023.
    // source: docs lambda-runtimes (OS-only runtime "provided.al2023", Amazon Linux 2023)
    public var providedAL2023Runtime = "provided.al2023"
    /// The OS-only base image for container images; its entrypoint runs ${LAMBDA_RUNTIME_DIR}/bootstrap.
    // source: docs images-create ("Using an AWS OS-only base image": FROM public.ecr.aws/lambda/provided:al2023,
    // COPY bootstrap ${LAMBDA_RUNTIME_DIR}); gallery.ecr.aws/lambda/provided
    public var providedAL2023BaseImage = "public.ecr.aws/lambda/provided:al2023"
    /// Where that base image runs `bootstrap` from (its LAMBDA_RUNTIME_DIR).
    // source: docs configuration-envvars (LAMBDA_RUNTIME_DIR "/var/runtime")
    public var runtimeDirectory = "/var/runtime"

    // MARK: Time

    // source: docs gettingstarted-limits (function timeout 900 seconds)
    public var timeoutSeconds: Double = 900
    /// Overrunning it retries init inside the first invoke, under the function timeout.
    // source: docs lambda-runtime-environment (init phase limited to 10 seconds)
    public var initPhaseSeconds: Double = 10

    // MARK: Requests and the process

    // source: docs gettingstarted-limits (synchronous invocation, request and response, 6 MB each)
    public var payloadBytes: Int64 = 6 * LambdaLimits.bytesPerMB
    // source: docs configuration-response-streaming (up to 200 MB)
    public var streamedResponseBytes: Int64 = 200 * LambdaLimits.bytesPerMB
    // source: docs configuration-response-streaming (first 6 MB uncapped)
    public var streamedUncappedBytes: Int64 = 6 * LambdaLimits.bytesPerMB
    // source: docs configuration-response-streaming (then at most 2 MB/s)
    public var streamedBytesPerSecondAfterUncapped: Int64 = 2 * LambdaLimits.bytesPerMB
    // source: docs gettingstarted-limits (file descriptors 1,024)
    public var fileDescriptors = 1_024
    // source: docs gettingstarted-limits (execution processes/threads 1,024)
    public var processesAndThreads = 1_024

    // MARK: Prices (first tier, US East)

    // source: aws.amazon.com/lambda/pricing (x86, first 6 billion GB-seconds)
    public var pricePerGBSecondX86: Double = 0.000_016_666_7
    // source: aws.amazon.com/lambda/pricing (Arm, first 7.5 billion GB-seconds)
    public var pricePerGBSecondArm64: Double = 0.000_013_333_4
    // source: aws.amazon.com/lambda/pricing ($0.20 per 1M requests)
    public var pricePerMillionRequests: Double = 0.20

    init() {}

    // MARK: Helpers

    /// A memory setting Lambda accepts.
    public func isValidMemory(_ mb: Int) -> Bool {
        mb >= minMemoryMB && mb <= maxMemoryMB && (mb - minMemoryMB) % memoryStepMB == 0
    }

    /// An ephemeral-storage (/tmp) setting Lambda accepts.
    public func isValidEphemeralStorage(_ mb: Int) -> Bool {
        mb >= minEphemeralStorageMB && mb <= maxEphemeralStorageMB
    }

    /// CPU credits at a memory setting: memory / 1,769 MB, at most 6. Fractional below
    /// one vCPU (the function gets that share of one core's time). At 10,240 MB this
    /// gives 5.79, not 6: AWS's "up to 6 vCPUs" is not reached by the documented ratio.
    public func vcpuShare(memoryMB: Int) -> Double {
        min(Double(maxVCPUs), Double(max(memoryMB, 0)) / Double(mbPerVCPU))
    }

    /// Cores the function sees at a memory setting. Settings outside Lambda's range
    /// clamp to the nearest band, so callers get a number, not a trap.
    public func visibleCores(memoryMB: Int) -> Int {
        for band in visibleCoreBands where memoryMB <= band.maxMemoryMB {
            return band.cores
        }
        return visibleCoreBands.last?.cores ?? maxVCPUs
    }

    public func pricePerGBSecond(_ architecture: LambdaArchitecture) -> Double {
        switch architecture {
        case .x86_64: pricePerGBSecondX86
        case .arm64: pricePerGBSecondArm64
        }
    }

    /// The per-request fee, USD.
    public var pricePerRequest: Double { pricePerMillionRequests / 1_000_000 }
}

extension LambdaArchitecture {
    /// USD per GB-second of duration on this architecture.
    public func pricePerGBSecond(in limits: LambdaLimits = .current) -> Double {
        limits.pricePerGBSecond(self)
    }
}
