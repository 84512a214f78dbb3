import LambdaLimits

/// What `lambda-llm package` was asked to do, options already parsed.
public struct PackageRequest: Sendable, Equatable {
    public var modelPath: String
    public var outputDirectory: String
    public var source: DeploymentSource
    /// nil: the binary's own architecture.
    public var architecture: LambdaArchitecture?
    public var studyPath: String?
    public var binaryPath: String
    /// Required for `.s3`.
    public var s3URI: String?
    public var functionName: String?
    public var memoryMB: Int?
    public var timeoutSeconds: Int?
    /// LAMBDA_LLM_CONTEXT for the function, and the context the KV estimate assumes.
    public var contextLength: Int?
    /// Replace the files `package` writes in a non-empty output directory.
    public var force: Bool
    public var allowDynamicStdlib: Bool
    public var skipGlibcCheck: Bool

    public init(modelPath: String, outputDirectory: String, source: DeploymentSource = .image,
                architecture: LambdaArchitecture? = nil, studyPath: String? = nil, binaryPath: String,
                s3URI: String? = nil, functionName: String? = nil, memoryMB: Int? = nil, timeoutSeconds: Int? = nil,
                contextLength: Int? = nil, force: Bool = false, allowDynamicStdlib: Bool = false,
                skipGlibcCheck: Bool = false) {
        self.modelPath = modelPath
        self.outputDirectory = outputDirectory
        self.source = source
        self.architecture = architecture
        self.studyPath = studyPath
        self.binaryPath = binaryPath
        self.s3URI = s3URI
        self.functionName = functionName
        self.memoryMB = memoryMB
        self.timeoutSeconds = timeoutSeconds
        self.contextLength = contextLength
        self.force = force
        self.allowDynamicStdlib = allowDynamicStdlib
        self.skipGlibcCheck = skipGlibcCheck
    }
}

/// One file `package` wrote, relative to the output directory.
public struct WrittenFile: Sendable, Equatable {
    public var path: String
    public var bytes: Int64
    /// "hard link", "copy", "executable", or nil.
    public var note: String?

    public init(path: String, bytes: Int64, note: String? = nil) {
        self.path = path
        self.bytes = bytes
        self.note = note
    }
}

/// What `package` did, for the console.
public struct PackageResult: Sendable, Equatable {
    public var outputDirectory: String
    public var source: DeploymentSource
    public var architecture: LambdaArchitecture
    public var files: [WrittenFile]
    public var sizing: DeploymentSizing
    public var binary: BinaryInspection
    /// Things that did not stop the packaging but need the user's eye.
    public var warnings: [String]

    /// The short console summary: files, sizes and where they came from, the binary checks.
    public var summaryLines: [String] {
        let packaging = source == .image ? "container image" : "zip + model from S3"
        var lines = ["Packaged for AWS Lambda (\(packaging), \(architecture.rawValue)) in \(outputDirectory):"]
        for file in files {
            lines.append("  \(file.path)  \(Format.size(file.bytes))" + (file.note.map { " (\($0))" } ?? ""))
        }
        lines.append("Sizes (from \(sizing.basis)):")
        lines.append("  memory \(Format.grouped(sizing.memoryMB.value)) MB: \(sizing.memoryMB.reason)")
        lines.append("  /tmp \(Format.grouped(sizing.ephemeralStorageMB.value)) MB: \(sizing.ephemeralStorageMB.reason)")
        lines.append("  timeout \(sizing.timeoutSeconds.value) s: \(sizing.timeoutSeconds.reason)")
        lines.append("Binary: \(binary.elf.machine), \(binary.linkageSummary)")
        lines.append(binary.glibc.summary)
        if binary.libstdcxx.isNeeded { lines.append(binary.libstdcxx.summary) }
        for note in sizing.notes { lines.append("Note: " + note) }
        for warning in warnings { lines.append("Warning: " + warning) }
        lines.append("Next: see \(outputDirectory)/README.md (sam build / sam deploy --guided).")
        return lines
    }
}
