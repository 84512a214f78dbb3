import ArgumentParser
import Foundation
import ModelSource

/// For the botocore comparison test: signs one request described as JSON on stdin
/// with `SigV4Signer` and prints the canonical request, string to sign,
/// Authorization and the headers to add, as JSON.
struct DebugSigV4Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug-sigv4",
        abstract: "Sign a request given as JSON on stdin with AWS SigV4 and print the parts as JSON (for testing).",
        discussion: """
        Input: {"method", "url", "headers": {..}, "payload_sha256", "amz_date": "YYYYMMDDTHHMMSSZ", \
        "region", "access_key", "secret_key", "session_token"?, "service"? (default s3)}. \
        payload_sha256 defaults to the hash of an empty body.
        """,
        shouldDisplay: false
    )

    struct Input: Decodable {
        var method: String
        var url: String
        var headers: [String: String]?
        var payload_sha256: String?
        var amz_date: String
        var region: String
        var access_key: String
        var secret_key: String
        var session_token: String?
        var service: String?
    }

    struct Output: Encodable {
        var authorization: String
        var canonical_request: String
        var string_to_sign: String
        var signed_header_names: String
        var signed_headers: [String: String]
    }

    func run() throws {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let input: Input
        do {
            input = try JSONDecoder().decode(Input.self, from: data)
        } catch {
            throw ValidationError("stdin is not the expected JSON object: \(error)")
        }
        guard let date = SigV4Signer.parseAMZDate(input.amz_date) else {
            throw ValidationError("amz_date '\(input.amz_date)' is not YYYYMMDDTHHMMSSZ")
        }
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: input.access_key, secretAccessKey: input.secret_key, sessionToken: input.session_token),
            region: input.region, service: input.service ?? "s3"
        )
        let headers = (input.headers ?? [:]).sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        let signature = try signer.sign(method: input.method, url: input.url, headers: headers,
                                        payloadSHA256: input.payload_sha256 ?? SigV4Signer.emptyPayloadSHA256, date: date)
        var added: [String: String] = [:]
        for header in signature.headersToAdd { added[header.name] = header.value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let output = Output(authorization: signature.authorization, canonical_request: signature.canonicalRequest,
                            string_to_sign: signature.stringToSign, signed_header_names: signature.signedHeaderNames,
                            signed_headers: added)
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
