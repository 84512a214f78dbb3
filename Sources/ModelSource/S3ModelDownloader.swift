import AsyncHTTPClient
import Foundation

/// Fetches s3://bucket/key into a local directory and returns a file whose SHA-256
/// has been checked: HEAD, expected checksum (metadata or sidecar), reuse of an
/// earlier verified copy, free-space check, parallel resumable ranged GETs into a
/// temporary file, verification, then an atomic rename and a marker for next time.
/// A file under the final name has always been verified; every failure removes the
/// temporary file.
public struct S3ModelDownloader: Sendable {
    public let configuration: S3Configuration
    private let credentials: AWSCredentials

    public init(configuration: S3Configuration, credentials: AWSCredentials) {
        self.configuration = configuration
        self.credentials = credentials
    }

    /// Downloads s3://bucket/key into `directory` (e.g. /tmp) and returns the verified local file.
    /// `progress` gets the bytes received so far and the object's size, from several tasks.
    public func fetch(bucket: String, key: String, into directory: String,
                      progress: (@Sendable (_ done: Int64, _ total: Int64) -> Void)?) async throws(ModelSourceError) -> DownloadReport {
        try configuration.validate()
        if let problem = ModelLocation.bucketProblem(bucket) { throw .invalidLocation("s3://\(bucket)/\(key)", reason: problem) }
        let name = try LocalPaths.fileName(forKey: key, bucket: bucket)
        let directory = try Self.prepare(directory: directory)

        let http = S3Client.makeHTTPClient(configuration)
        let client = S3Client(http: http, configuration: configuration, credentials: credentials)
        let outcome: Result<DownloadReport, ModelSourceError>
        do {
            outcome = .success(try await fetch(client: client, bucket: bucket, key: key, directory: directory, name: name,
                                               progress: progress))
        } catch {
            outcome = .failure(error)
        }
        // Connections must close before the client goes; a failure to shut down changes nothing for the caller.
        try? await http.shutdown()
        return try outcome.get()
    }

    private func fetch(client: S3Client, bucket: String, key: String, directory: String, name: String,
                       progress: (@Sendable (Int64, Int64) -> Void)?) async throws(ModelSourceError) -> DownloadReport {
        let clock = ContinuousClock()
        let started = clock.now
        let (object, headRetries) = try await client.head(bucket: bucket, key: key)
        let (expected, source, checksumRetries) = try await expectedChecksum(client: client, object: object, bucket: bucket, key: key)
        let finalPath = "\(directory)/\(name)"

        if VerifiedMarker.canReuse(file: finalPath, sha256: expected, bytes: object.size) {
            return DownloadReport(path: finalPath, bytes: object.size, seconds: Self.seconds(clock.now - started),
                                  megabytesPerSecond: 0, reused: true, checksumSource: source,
                                  retries: headRetries + checksumRetries)
        }

        LocalPaths.removeStalePartials(directory: directory, name: name)
        // What is under the final name is not this object: it will be replaced, and its space is needed now.
        try Self.removeStale(finalPath)
        try DiskSpace.require(object.size, in: directory)

        let file = try PartialFile(path: LocalPaths.partialPath(directory: directory, name: name), size: object.size)
        let (actual, partRetries, verifySeconds): (String, Int, Double)
        do {
            (actual, partRetries, verifySeconds) = try await download(client: client, object: object, bucket: bucket, key: key,
                                                                      into: file, progress: progress)
        } catch {
            file.discard()
            throw error
        }
        guard actual == expected else {
            file.discard()
            throw .checksumMismatch(bucket: bucket, key: key, expected: expected, actual: actual)
        }
        try file.commit(to: finalPath)
        LocalPaths.syncDirectory(directory)
        try VerifiedMarker(sha256: expected, etag: object.etag, bytes: object.size).save(besideFile: finalPath)
        LocalPaths.syncDirectory(directory)

        let seconds = Self.seconds(clock.now - started)
        return DownloadReport(path: finalPath, bytes: object.size, seconds: seconds,
                              megabytesPerSecond: seconds > 0 ? Double(object.size) / Double(1 << 20) / seconds : 0,
                              reused: false, checksumSource: source, retries: headRetries + checksumRetries + partRetries,
                              verifySeconds: verifySeconds)
    }

    /// Runs the parts, `parallelism` at a time, and hashes the file (while or after); returns the
    /// hex digest, the retries and the hashing time after the last byte.
    private func download(client: S3Client, object: ObjectInfo, bucket: String, key: String, into file: PartialFile,
                          progress: (@Sendable (Int64, Int64) -> Void)?) async throws(ModelSourceError) -> (String, Int, Double) {
        let plan = PartPlan(objectSize: object.size, partSize: configuration.partSize)
        let tracker = DownloadProgress(plan: plan)
        let parts = PartDownloader(client: client, bucket: bucket, key: key, object: object, file: file,
                                   progress: tracker, onProgress: progress)
        progress?(0, object.size)

        let hasher: Task<Result<String?, ModelSourceError>, Never>? = configuration.hashWhileDownloading
            ? Task { () async -> Result<String?, ModelSourceError> in
                do throws(ModelSourceError) {
                    return .success(try await PrefixHasher(file: file, progress: tracker).run())
                } catch {
                    return .failure(error)
                }
            }
            : nil

        let parallelism = configuration.parallelism
        let result = await withTaskGroup(of: Result<Int, ModelSourceError>.self) { group -> Result<Int, ModelSourceError> in
            var next = 0
            func start() {
                guard next < plan.parts.count else { return }
                let part = plan.parts[next]
                next += 1
                group.addTask { () async -> Result<Int, ModelSourceError> in
                    do throws(ModelSourceError) { return .success(try await parts.download(part)) } catch { return .failure(error) }
                }
            }
            for _ in 0..<min(parallelism, plan.parts.count) { start() }
            var retries = 0
            var firstFailure: ModelSourceError?
            while let outcome = await group.next() {
                switch outcome {
                case .success(let partRetries):
                    retries += partRetries
                    if firstFailure == nil { start() }
                case .failure(let error):
                    // The first failure is the cause; the others are its cancellations.
                    if firstFailure == nil {
                        firstFailure = error
                        group.cancelAll()
                    }
                }
            }
            return firstFailure.map { .failure($0) } ?? .success(retries)
        }
        tracker.finish()

        let retries: Int
        switch result {
        case .success(let count):
            retries = count
        case .failure(let error):
            hasher?.cancel()
            _ = await hasher?.value
            throw error
        }

        let clock = ContinuousClock()
        let verifyStarted = clock.now
        let digest: String
        if let hasher {
            guard let whole = try await hasher.value.get() else {
                throw .invalidResponse(bucket: bucket, key: key, reason: "the parts left a gap in the file")
            }
            digest = whole
        } else {
            digest = try FileHasher.sha256(of: file)
        }
        return (digest, retries, Self.seconds(clock.now - verifyStarted))
    }

    /// The expected SHA-256 and where it came from: x-amz-meta-sha256, else the KEY.sha256 sidecar.
    private func expectedChecksum(client: S3Client, object: ObjectInfo, bucket: String,
                                  key: String) async throws(ModelSourceError) -> (String, String, Int) {
        if let metadata = object.metadataSHA256 {
            guard let hex = ExpectedChecksum.normalizedHex(metadata) else {
                throw .invalidChecksum(bucket: bucket, key: key, source: ExpectedChecksum.metadataSource, value: metadata)
            }
            return (hex, ExpectedChecksum.metadataSource, 0)
        }
        let sidecarKey = ExpectedChecksum.sidecarKey(for: key)
        let (body, retries) = try await client.smallObject(bucket: bucket, key: sidecarKey, limit: 4096)
        guard let body else { throw .noChecksum(bucket: bucket, key: key) }
        let token = ExpectedChecksum.sidecarToken(body)
        let source = ExpectedChecksum.sidecarSource(bucket: bucket, key: key)
        guard let hex = ExpectedChecksum.normalizedHex(token) else {
            throw .invalidChecksum(bucket: bucket, key: key, source: source, value: token)
        }
        return (hex, source, retries)
    }

    /// The directory without a trailing '/', created when missing.
    static func prepare(directory: String) throws(ModelSourceError) -> String {
        var path = directory.isEmpty ? "." : directory
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw .fileSystem(path: path, operation: "use as download directory", reason: "not a directory") }
        } else {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw .fileSystem(path: path, operation: "create directory", reason: "\(error.localizedDescription)")
            }
        }
        return path == "/" ? "" : path
    }

    /// Removes an unverified or outdated file (and its marker) under the final name.
    static func removeStale(_ finalPath: String) throws(ModelSourceError) {
        VerifiedMarker.remove(forFile: finalPath)
        var info = stat()
        guard lstat(finalPath, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) != S_IFDIR else {
            throw .fileSystem(path: finalPath, operation: "replace", reason: "a directory has the model's name")
        }
        guard unlink(finalPath) == 0 else {
            throw .fileSystem(path: finalPath, operation: "remove outdated", reason: LocalPaths.errnoText())
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
