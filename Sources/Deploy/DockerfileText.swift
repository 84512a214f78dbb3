import LambdaLimits

/// The container image's Dockerfile and .dockerignore: the provided.al2023 OS-only base
/// image, our binary where its entrypoint looks for `bootstrap`, the model baked under
/// /opt/model. File names reaching here are already reduced to [A-Za-z0-9._-], so
/// nothing needs Dockerfile quoting.
public struct DockerfileText: Sendable, Equatable {
    /// Inside the image: read-only, like everything outside /tmp on Lambda.
    public static let modelDirectory = "/opt/model"

    public var architecture: LambdaArchitecture
    /// The model's file name in the build context's model/ folder and in /opt/model.
    public var modelFileName: String
    public var contextLength: Int?

    public init(architecture: LambdaArchitecture, modelFileName: String, contextLength: Int? = nil) {
        self.architecture = architecture
        self.modelFileName = modelFileName
        self.contextLength = contextLength
    }

    public var platform: String {
        switch architecture {
        case .x86_64: "linux/amd64"
        case .arm64: "linux/arm64"
        }
    }

    public var modelPathInImage: String { Self.modelDirectory + "/" + modelFileName }

    /// Build-context paths the Dockerfile copies from; `package` writes each of them.
    public var copySources: [String] { ["model/" + modelFileName, "bootstrap"] }

    public func render(limits: LambdaLimits = .current) -> String {
        var environment = ["LAMBDA_LLM_MODEL=\(modelPathInImage)", "LAMBDA_LLM_INVOKE_MODE=RESPONSE_STREAM"]
        if let contextLength { environment.append("LAMBDA_LLM_CONTEXT=\(contextLength)") }
        let lines = [
            "# LambdaLLM runtime and \(modelFileName) for AWS Lambda (\(architecture.rawValue)), written by `lambda-llm package`.",
            "# Build with `sam build` (template.yaml), or by hand:",
            "#   docker build --platform \(platform) --provenance=false -t lambda-llm .",
            "FROM --platform=\(platform) \(limits.providedAL2023BaseImage)",
            "",
            "# The model first: it is the big layer and changes less often than the binary.",
            "# Baked in, it needs no /tmp and no download at cold start; Lambda caches image layers.",
            "COPY \(copySources[0]) \(modelPathInImage)",
            "",
            "# The base image's entrypoint runs ${LAMBDA_RUNTIME_DIR}/bootstrap (\(limits.runtimeDirectory)/bootstrap);",
            "# started under that name, lambda-llm runs the Lambda Runtime API loop.",
            "COPY \(copySources[1]) ${LAMBDA_RUNTIME_DIR}/bootstrap",
            "",
            "ENV " + environment.joined(separator: " \\\n    "),
            "",
            "# The handler name reaches bootstrap as _HANDLER; lambda-llm does not use it.",
            "CMD [\"bootstrap\"]",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Only the two things the image needs go into the build context.
    public static let dockerignore = """
        # Send only what the Dockerfile copies to the Docker daemon.
        *
        !bootstrap
        !model

        """

    /// `name` with every character outside [A-Za-z0-9._-] replaced by '_', and never
    /// starting with '.' or '-': safe in a Dockerfile, a shell and a URL path alike.
    public static func safeFileName(_ name: String) -> String {
        var out = String(String.UnicodeScalarView(name.unicodeScalars.map { isPlainScalar($0) ? $0 : "_" }))
        if out.isEmpty || out.hasPrefix(".") || out.hasPrefix("-") { out = "model" + out }
        return out
    }

    static func isPlainScalar(_ s: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-"
    }
}
