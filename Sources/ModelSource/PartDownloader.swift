import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Fetches one part with ranged GETs and writes it at its offset. A cut connection,
/// a read timeout or a 5xx is retried after a backoff, and the retry asks only for
/// the bytes still missing (Range starts at part start + bytes received), so a flaky
/// link costs the lost tail of one response, not the whole part. Every GET carries
/// If-Match with the HEAD's ETag: an object replaced mid-download answers 412.
struct PartDownloader: Sendable {
    let client: S3Client
    let bucket: String
    let key: String
    let object: ObjectInfo
    let file: PartialFile
    let progress: DownloadProgress
    let onProgress: (@Sendable (_ done: Int64, _ total: Int64) -> Void)?

    /// Downloads `part` completely; returns how many retries it took.
    func download(_ part: PartPlan.Part) async throws(ModelSourceError) -> Int {
        var received: Int64 = 0
        var retries = 0
        while true {
            let reason: String
            do throws(S3Client.AttemptFailure) {
                try await attempt(part, received: &received)
                return retries
            } catch {
                switch error {
                case .final(let error): throw error
                case .transient(let why): reason = why
                }
            }
            retries += 1
            guard retries <= client.configuration.maxRetriesPerPart else {
                throw .networkFailure(bucket: bucket, key: key, attempts: retries,
                                      lastError: "bytes \(part.start)-\(part.end): \(reason)")
            }
            do { try await client.backoff.wait(beforeRetry: retries) } catch { throw .cancelled(bucket: bucket, key: key) }
        }
    }

    /// One GET for the missing tail of `part`; `received` counts the bytes written so far, also when this throws.
    func attempt(_ part: PartPlan.Part, received: inout Int64) async throws(S3Client.AttemptFailure) {
        let from = part.start + received
        let request = try client.signedRequest(.GET, bucket: bucket, key: key,
                                               headers: [("range", "bytes=\(from)-\(part.end)"), ("if-match", object.etag)])
        let response = try await client.execute(request, bucket: bucket, key: key, timeout: .minutes(15))
        try await checkStatus(response, from: from, to: part.end)

        do {
            for try await buffer in response.body {
                let count = Int64(buffer.readableBytes)
                guard count <= part.length - received else {
                    throw S3Client.AttemptFailure.final(.invalidResponse(
                        bucket: bucket, key: key, reason: "the answer for bytes \(from)-\(part.end) is longer than asked"))
                }
                let offset = part.start + received
                try buffer.withUnsafeReadableBytes { bytes throws(ModelSourceError) in try file.write(bytes, at: offset) }
                received += count
                let total = progress.record(part: part.index, bytes: count)
                onProgress?(total, object.size)
            }
        } catch let failure as S3Client.AttemptFailure {
            throw failure
        } catch let error as ModelSourceError {
            throw .final(error)
        } catch {
            if Task.isCancelled { throw .final(.cancelled(bucket: bucket, key: key)) }
            throw .transient("connection lost after \(received) of \(part.length) bytes: \(client.describe(error))")
        }
        guard received == part.length else {
            throw .transient("the answer ended after \(received) of \(part.length) bytes")
        }
    }

    /// 206 for exactly the asked range (or 200 for a whole-object range); 412, 4xx and 5xx become failures.
    private func checkStatus(_ response: HTTPClientResponse, from: Int64, to end: Int64) async throws(S3Client.AttemptFailure) {
        let status = Int(response.status.code)
        switch status {
        case 206:
            guard let header = response.headers.first(name: "content-range"), let range = ContentRange(header: header),
                  range.start == from, range.end == end, range.total == nil || range.total == object.size
            else {
                let got = response.headers.first(name: "content-range") ?? "none"
                throw .final(.invalidResponse(bucket: bucket, key: key,
                                              reason: "asked for bytes \(from)-\(end) of \(object.size), got Content-Range \(got)"))
            }
        case 200 where from == 0 && end == object.size - 1:
            break  // some servers answer a range covering the whole object with the whole object
        case 200:
            throw .final(.invalidResponse(bucket: bucket, key: key, reason: "the server ignored the Range header"))
        case 412:
            throw .final(.objectChanged(bucket: bucket, key: key))
        default:
            let body = (try? await client.collect(response, limit: 64 << 10, bucket: bucket, key: key)) ?? []
            if S3Client.isRetryable(status) {
                let code = S3ErrorBody(xml: body).shown(redacting: client.credentials).code
                throw .transient("GET answered HTTP \(status)\(code.isEmpty ? "" : " \(code)")")
            }
            throw .final(client.failure(status: status, headers: response.headers, body: S3ErrorBody(xml: body),
                                        bucket: bucket, key: key, operation: "GET"))
        }
    }
}
