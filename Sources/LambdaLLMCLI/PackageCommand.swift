import ArgumentParser
import Deploy
import Foundation
import LambdaLimits

/// `lambda-llm package`: the front door of Deploy. Parses options, names the running
/// executable as the default runtime binary, prints the summary; Deploy does the rest.
struct PackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Package a GGUF model and this runtime for AWS Lambda: Dockerfile or zip, SAM template, README.",
        discussion: """
        --source image (default) writes a container-image build context with the model baked in; \
        --source s3 writes a zip for provided.al2023 that downloads the model from --s3-uri at cold start. \
        Memory, /tmp and timeout come from a `lambda-llm study` results.json (--study), or are estimated from the \
        GGUF header. The binary must be a Linux ELF for --arch, built with --static-swift-stdlib, needing \
        glibc 2.34 or older (Amazon Linux 2023).
        """
    )

    @Option(help: "The GGUF model to deploy.")
    var model: String
    @Option(help: "Output directory (created; must be empty unless --force).")
    var out: String
    @Option(help: "Where the function gets the model: image (baked into a container image) or s3 (downloaded to /tmp).")
    var source: DeploymentSource = .image
    @Option(help: "x86_64 or arm64 (default: the binary's own).")
    var arch: LambdaArchitecture?
    @Option(help: "A `lambda-llm study` results.json that measured this model: memory, /tmp and timeout come from its verdict.")
    var study: String?
    @Option(help: "The runtime binary to package (default: this executable).")
    var binary: String?
    @Option(name: .customLong("s3-uri"), help: "s3://BUCKET/KEY the function downloads the model from (--source s3).")
    var s3URI: String?
    @Option(help: "Lambda function name (default: CloudFormation makes one up).")
    var name: String?
    @Option(help: "Memory in MB, replacing the planned figure (128 to 10240).")
    var memory: Int?
    @Option(help: "Timeout in seconds, replacing the planned figure (1 to 900).")
    var timeout: Int?
    @Option(help: "Context length for the function (sets LAMBDA_LLM_CONTEXT; default min(model's, 4096)).")
    var context: Int?
    @Flag(help: "Replace the files package writes in a non-empty --out (other files stay).")
    var force = false
    @Flag(name: .customLong("allow-dynamic-stdlib"),
          help: "Package a binary that needs the Swift runtime as shared libraries (it will not start on Lambda unless you ship them).")
    var allowDynamicStdlib = false
    @Flag(name: .customLong("skip-glibc-check"), help: "Package even if the binary needs a glibc newer than Amazon Linux 2023's 2.34.")
    var skipGlibcCheck = false

    func run() throws {
        let request = PackageRequest(
            modelPath: model, outputDirectory: out, source: source, architecture: arch, studyPath: study,
            binaryPath: binary ?? Self.currentExecutable(), s3URI: s3URI, functionName: name, memoryMB: memory,
            timeoutSeconds: timeout, contextLength: context, force: force, allowDynamicStdlib: allowDynamicStdlib,
            skipGlibcCheck: skipGlibcCheck)
        // A PackageError prints as "Error: <its description>" with exit status 1.
        let result = try Packager.package(request)
        print(result.summaryLines.joined(separator: "\n"))
    }

    /// The running executable: what `bootstrap` should be unless told otherwise.
    static func currentExecutable() -> String {
        let link = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        if link != "/proc/self/exe" { return link }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}

extension DeploymentSource: ExpressibleByArgument {}
extension LambdaArchitecture: ExpressibleByArgument {}
