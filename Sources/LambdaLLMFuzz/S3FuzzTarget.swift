import Foundation
import ModelSource

/// What an S3 endpoint (or a man in the middle of a plain-http one) sends back, and
/// what a user types as a model location. The first byte picks: an error answer
/// (status, region header, XML body) turned into the user's message, which must never
/// show any part of the secret key or session token the body echoes; a
/// Content-Range header; a checksum from metadata or a sidecar; a SigV4 signature
/// over a fuzzed URL and headers; an `s3://` location; an x-amz-date.
struct S3FuzzTarget: FuzzTarget {
    static let name = "s3"
    static let summary = "S3 error bodies and redaction, Content-Range, checksums, SigV4 canonicalization, s3:// locations"

    /// Fixed, so that seeds can carry the secret and the fuzzer can move it around.
    static let credentials = AWSCredentials(
        accessKeyID: "AKIAFUZZEXAMPLE00001",
        secretAccessKey: "fuzzSecretKey/K7MDENG+bPxRfiCYEXAMPLEKEY",
        sessionToken: "FwoGZXIvYXdzEFUZZSESSIONTOKENEXAMPLE//////////wEaDFuzz="
    )

    private let signer = SigV4Signer(credentials: credentials, region: "us-east-1")

    init() {}

    func run(_ bytes: [UInt8]) {
        guard bytes.count >= 3 else { return }
        let rest = Array(bytes.dropFirst(3))
        let text = String(decoding: rest, as: UTF8.self)
        switch bytes[0] % 6 {
        case 0: errorAnswer(status: 300 + Int(bytes[1]) % 300, rest)
        case 1:
            if let range = S3ResponseFuzzing.contentRange(text) {
                fuzzInvariant(range.start >= 0 && range.end >= range.start && (range.total.map { $0 > range.end } ?? true),
                              "accepted an inconsistent Content-Range \(text.debugDescription)")
            }
        case 2:
            let checksum = S3ResponseFuzzing.expectedChecksum(metadata: bytes[1] & 1 == 0 ? text : nil, sidecar: rest)
            if let checksum { fuzzInvariant(checksum.utf8.count == 64, "accepted a checksum of \(checksum.utf8.count) characters") }
        case 3: sign(rest)
        case 4: _ = try? ModelLocation(parsing: text)
        default: _ = SigV4Signer.parseAMZDate(text)
        }
    }

    private func errorAnswer(status: Int, _ body: [UInt8]) {
        let message = S3ResponseFuzzing.errorMessage(status: status, regionHeader: nil, body: body, credentials: Self.credentials)
        // A leak is a piece of a credential in the message that the body held only inside
        // a whole credential (which redaction must catch). Pieces the body holds elsewhere,
        // e.g. in a near-copy the fuzzer made, are the endpoint's own words.
        let scrubbed = Self.credentials.redact(String(decoding: body, as: UTF8.self))
        for secret in [Self.credentials.secretAccessKey, Self.credentials.sessionToken ?? ""] {
            let characters = Array(secret)
            for start in stride(from: 0, through: characters.count - 12, by: 1) {
                let window = String(characters[start..<start + 12])
                fuzzInvariant(!message.contains(window) || scrubbed.contains(window),
                              "error message shows part of a credential: \(message.debugDescription)")
            }
        }
    }

    /// Lines of the input: a method, a URL, then "name: value" headers.
    private func sign(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 2 else { return }
        let headers: [(name: String, value: String)] = lines.dropFirst(2).compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        guard let signature = try? signer.sign(method: lines[0], url: lines[1], headers: headers, payloadSHA256: empty,
                                               date: Date(timeIntervalSince1970: 1_700_000_000))
        else { return }
        let again = try? signer.sign(method: lines[0], url: lines[1], headers: headers, payloadSHA256: empty,
                                     date: Date(timeIntervalSince1970: 1_700_000_000))
        fuzzInvariant(again == signature, "signing the same request twice gave two signatures")
        // Unless the caller's own URL or headers carry it, the secret never shows.
        let secret = Self.credentials.secretAccessKey
        fuzzInvariant(!String(describing: signature).contains(secret) || String(decoding: bytes, as: UTF8.self).contains(secret),
                      "a signature's description shows the secret")
    }
}
