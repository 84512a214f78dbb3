// swift-tools-version:6.0
import PackageDescription

// One target per box of ARCHITECTURE.md: files -> kernels -> engine -> generation -> front doors.
let package = Package(
    name: "LambdaLLM",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "lambda-llm", targets: ["LambdaLLMCLI"]),
        // Fuzz targets: a corpus replayer in a plain build, a libFuzzer binary in fuzz/run's.
        .executable(name: "lambda-llm-fuzz", targets: ["LambdaLLMFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.70.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Hot dot products with per-function ISA attributes; runtime dispatch lives here.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]
        ),
        .target(name: "Kernels", dependencies: ["CKernels"]),
        .target(name: "ModelFiles", dependencies: ["Kernels"]),
        .target(name: "Tokenizer", dependencies: ["ModelFiles"]),
        .target(name: "Engine", dependencies: ["ModelFiles", "Kernels"]),
        .target(name: "Generation", dependencies: ["Engine", "Tokenizer", "ModelFiles"]),
        // The one request layer of the front doors: OpenAI JSON in, validated requests, answers and errors out.
        .target(name: "Serving", dependencies: ["Generation", "Tokenizer", "ModelFiles"]),
        .target(name: "Convert", dependencies: ["ModelFiles", "Kernels", "Tokenizer"]),
        // AWS Lambda's limits and prices: one table, read by the study, the runtime and the packager.
        .target(name: "LambdaLimits"),
        // The study: measures variants in child processes, renders the report, judges Lambda fit.
        .target(name: "Study", dependencies: ["LambdaLimits", "ModelFiles", "Kernels"]),
        // `serve`: the OpenAI-compatible HTTP server on Hummingbird.
        .target(
            name: "Server",
            dependencies: [
                "Serving", "Generation", "ModelFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        // Where a model comes from: a local path, or s3://bucket/key fetched with SigV4,
        // parallel ranged GETs, resume and checksum verification.
        .target(
            name: "ModelSource",
            dependencies: [
                "ModelFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `lambda-llm lambda`: the Runtime API loop, events, response streaming, logs.
        .target(
            name: "LambdaRuntime",
            dependencies: [
                "Serving", "Generation", "ModelFiles", "ModelSource", "LambdaLimits",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `lambda-llm package`: Dockerfile, SAM template, zip layout, glibc check.
        .target(name: "Deploy", dependencies: ["LambdaLimits", "Study", "ModelFiles", "ModelSource"]),
        .executableTarget(
            name: "LambdaLLMCLI",
            dependencies: [
                "ModelFiles", "Kernels", "Tokenizer", "Engine", "Generation", "Convert", "LambdaLimits", "Study", "Serving", "Server",
                "ModelSource", "LambdaRuntime", "Deploy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // A position-dependent executable: as a PIE it carries ~130k relative relocations
            // (3 MB) that the loader reads at every start, dirtying each page of pointer tables
            // it patches. Without them the SmolLM2 int8 bench peaks ~5 MB lower and a start is
            // ~4 ms faster (README, "Speed"); shared libraries, stack, heap and mappings keep
            // their address randomization, the executable's own image loses it.
            linkerSettings: [.unsafeFlags(["-Xclang-linker", "-no-pie"], .when(platforms: [.linux]))]
        ),
        // Every surface that reads strangers' bytes, fed to libFuzzer (fuzz/run) or replayed (CI).
        .executableTarget(
            name: "LambdaLLMFuzz",
            dependencies: ["ModelFiles", "Kernels", "Tokenizer", "Engine", "Generation", "Convert", "Serving", "ModelSource", "LambdaRuntime"]
        ),
        // Shared test helpers: locating cached assets, building tiny GGUF files.
        .target(name: "TestSupport", dependencies: ["ModelFiles", "Kernels"], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "CKernels", "TestSupport"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles", "TestSupport"]),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "ModelFiles", "TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "ModelFiles", "Kernels", "TestSupport"]),
        .testTarget(name: "ConvertTests", dependencies: ["Convert", "ModelFiles", "Kernels", "Tokenizer", "TestSupport"]),
        .testTarget(name: "StudyTests", dependencies: ["Study", "LambdaLimits"]),
        .testTarget(name: "GenerationTests", dependencies: ["Generation", "Engine", "Tokenizer", "ModelFiles", "TestSupport"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Generation", "TestSupport"]),
        .testTarget(name: "ModelSourceTests", dependencies: ["ModelSource", "TestSupport"]),
        .testTarget(name: "LambdaRuntimeTests", dependencies: ["LambdaRuntime", "Serving", "Generation", "TestSupport"]),
        .testTarget(name: "DeployTests", dependencies: ["Deploy", "LambdaLimits", "Study", "TestSupport"]),
    ]
)
