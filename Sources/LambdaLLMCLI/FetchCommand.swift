import ArgumentParser
import Foundation
import ModelSource

/// `lambda-llm fetch s3://bucket/key`: the same download and verification the Lambda
/// runtime does at init, from the command line, with progress on stderr and the
/// verified file's path as the last line of stdout.
struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download s3://bucket/key into a directory with parallel ranged GETs and verify its SHA-256.",
        discussion: """
        Credentials, region and endpoint come from the environment as for the AWS SDKs: AWS_ACCESS_KEY_ID, \
        AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION (or AWS_DEFAULT_REGION), AWS_ENDPOINT_URL_S3 \
        (or AWS_ENDPOINT_URL) for an S3-compatible server. The expected SHA-256 comes from the object's \
        metadata (upload with --metadata sha256=HEX) or a sidecar object KEY.sha256 holding sha256sum output. \
        A file verified by an earlier fetch is reused without downloading.
        """
    )

    @Argument(help: "The object, as s3://bucket/key.")
    var location: String
    @Option(help: "Directory to download into.")
    var dir = "/tmp"
    @Option(help: "Parallel ranged GETs (connections), 1 to 64 (default \(S3Configuration.defaultParallelism)).")
    var parallel: Int?
    @Option(name: .customLong("part-size-mb"), help: "Bytes per ranged GET, in MiB, 1 to 1024 (default \(S3Configuration.defaultPartSize >> 20)).")
    var partSizeMB: Int?
    @Option(name: .customLong("max-retries"), help: ArgumentHelp("Retries per part.", visibility: .hidden))
    var maxRetries: Int?
    @Flag(name: .customLong("hash-after-download"),
          help: ArgumentHelp("Hash the file after the download instead of while it arrives (for measurements).", visibility: .hidden))
    var hashAfterDownload = false

    func validate() throws {
        if let parallel, !(1...64).contains(parallel) { throw ValidationError("--parallel must be 1 to 64 (got \(parallel))") }
        if let partSizeMB, !(1...1024).contains(partSizeMB) {
            throw ValidationError("--part-size-mb must be 1 to 1024 (got \(partSizeMB))")
        }
    }

    func run() async throws {
        guard case .s3(let bucket, let key) = try ModelLocation(parsing: location) else {
            throw ValidationError("fetch takes s3://bucket/key; '\(location)' is a local path")
        }
        let environment = ProcessInfo.processInfo.environment
        var configuration = try S3Configuration.fromEnvironment(environment)
        if let parallel { configuration.parallelism = parallel }
        if let partSizeMB { configuration.partSize = Int64(partSizeMB) << 20 }
        if let maxRetries { configuration.maxRetriesPerPart = maxRetries }
        configuration.hashWhileDownloading = !hashAfterDownload
        try configuration.validate()
        let downloader = S3ModelDownloader(configuration: configuration, credentials: try AWSCredentials.fromEnvironment(environment))

        Self.log("fetch: s3://\(bucket)/\(key) -> \(dir) (\(configuration.parallelism) connections, \(configuration.partSize >> 20) MiB parts)")
        let bar = TerminalProgress(label: "fetch")
        let report = try await downloader.fetch(bucket: bucket, key: key, into: dir) { done, total in
            bar.update(done: Int(done), total: Int(total))
        }
        if !report.reused { bar.finish() }
        if report.reused {
            Self.log("fetch: reused \(report.path): already verified (sha256 from \(report.checksumSource)), nothing downloaded")
        } else {
            Self.log(String(format: "fetch: done %@: %.1f MB in %.2f s (%.1f MB/s), sha256 verified (%@), %.2f s hashing after the last byte, %d retries, reused: no",
                            report.path, Double(report.bytes) / Double(1 << 20), report.seconds, report.megabytesPerSecond,
                            report.checksumSource, report.verifySeconds, report.retries))
        }
        print(report.path)
    }

    private static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
