import Crypto
import Foundation

/// AWS Signature Version 4 for S3 requests sent with an Authorization header.
/// `sign` is pure (no clock, no environment), so it is checked against AWS's
/// published examples and against botocore (`lambda-llm debug-sigv4`).
///
/// S3 specifics: the canonical URI is the path URI-encoded once with '/' kept
/// (S3 does not normalize "." or ".." and a key's bytes must survive as they are);
/// x-amz-content-sha256 is always sent and signed; the caller passes the payload
/// hash (the downloader sends only body-less GET and HEAD, so it passes
/// `emptyPayloadSHA256`, a true hash that every S3-compatible server accepts, also
/// over plain http where some refuse UNSIGNED-PAYLOAD).
public struct SigV4Signer: Sendable {
    public static let emptyPayloadSHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// Everything a signature is made of; `headersToAdd` goes onto the request as is.
    public struct Signature: Sendable, Equatable {
        /// host, x-amz-content-sha256, x-amz-date, x-amz-security-token (with a session token), authorization.
        public var headersToAdd: [(name: String, value: String)]
        public var authorization: String
        public var canonicalRequest: String
        public var stringToSign: String
        /// The SignedHeaders list: lower-case names joined by ';'.
        public var signedHeaderNames: String

        public static func == (a: Signature, b: Signature) -> Bool {
            a.authorization == b.authorization && a.canonicalRequest == b.canonicalRequest && a.stringToSign == b.stringToSign
                && a.signedHeaderNames == b.signedHeaderNames
                && a.headersToAdd.map { "\($0.name):\($0.value)" } == b.headersToAdd.map { "\($0.name):\($0.value)" }
        }
    }

    public enum SigningError: Error, Equatable, CustomStringConvertible {
        case badURL(String)
        public var description: String {
            switch self {
            case .badURL(let url): return "cannot sign '\(url)': it is not an absolute http(s) URL"
            }
        }
    }

    /// Signs `method url` with `headers` (all of them are signed; pass only those that will be sent).
    /// The URL's path and query may be raw or already percent-encoded: both canonicalize the same.
    /// Caller-supplied host, x-amz-date, x-amz-content-sha256, x-amz-security-token and
    /// authorization headers are replaced by the signer's own.
    public func sign(method: String, url: String, headers: [(name: String, value: String)],
                     payloadSHA256: String, date: Date) throws(SigningError) -> Signature {
        guard let parts = RequestURLParts(url) else { throw .badURL(url) }
        let timestamp = AMZDate(date)
        let owned: Set<String> = ["x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "authorization"]

        // Lower-cased names; repeated names join their values with ',' as SigV4 prescribes.
        var signed: [String: [String]] = [:]
        var hostFromCaller: String?
        for (name, value) in headers {
            let lower = name.lowercased().trimmingWhitespace()
            if lower == "host" { hostFromCaller = value.trimmingWhitespace(); continue }
            if owned.contains(lower) { continue }
            signed[lower, default: []].append(Self.trimAll(value))
        }
        let host = hostFromCaller ?? parts.hostHeader
        signed["host"] = [host]
        signed["x-amz-date"] = [timestamp.full]
        signed["x-amz-content-sha256"] = [payloadSHA256]
        if let token = credentials.sessionToken { signed["x-amz-security-token"] = [token] }

        let names = signed.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(signed[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaderNames = names.joined(separator: ";")
        let canonicalRequest = [
            method.uppercased(),
            AWSURIEncoding.canonical(parts.path.isEmpty ? "/" : parts.path, keepSlash: true),
            Self.canonicalQuery(parts.query),
            canonicalHeaders,
            signedHeaderNames,
            payloadSHA256,
        ].joined(separator: "\n")

        let scope = "\(timestamp.day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", timestamp.full, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey(day: timestamp.day)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaderNames), Signature=\(signature)"

        var add: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadSHA256), ("x-amz-date", timestamp.full)]
        if let token = credentials.sessionToken { add.append(("x-amz-security-token", token)) }
        add.append(("authorization", authorization))
        return Signature(headersToAdd: add, authorization: authorization, canonicalRequest: canonicalRequest,
                         stringToSign: stringToSign, signedHeaderNames: signedHeaderNames)
    }

    /// Parses SigV4's "YYYYMMDDTHHMMSSZ" (UTC); nil when malformed.
    public static func parseAMZDate(_ text: String) -> Date? { AMZDate.parse(text) }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for step in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(step.utf8), using: key)))
        }
        return key
    }

    /// Names and values encoded once (decoded first, so never twice), sorted by name then value;
    /// a name without '=' gets an empty value ("?lifecycle" -> "lifecycle=").
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { item -> (String, String) in
            let text = String(item)
            guard let equals = text.firstIndex(of: "=") else { return (AWSURIEncoding.canonical(text, keepSlash: false), "") }
            return (AWSURIEncoding.canonical(String(text[..<equals]), keepSlash: false),
                    AWSURIEncoding.canonical(String(text[text.index(after: equals)...]), keepSlash: false))
        }
        // Encoded names are ASCII, so String's ordering is the byte order SigV4 asks for.
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Trimall: no leading or trailing white space, inner runs of white space become one space.
    static func trimAll(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The parts of an absolute http(s) URL that signing needs, split by hand: Foundation's
/// URL rejects the raw spaces and non-ASCII characters that S3 keys may hold.
struct RequestURLParts: Equatable {
    var scheme: String
    var host: String
    var port: Int?
    var path: String
    var query: String

    init?(_ url: String) {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        var rest = url[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        // "[::1]:9000" keeps its brackets in the host, as the Host header wants.
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            host = String(authority[..<colon])
            port = number
        } else {
            host = String(authority)
            port = nil
        }
        guard !host.isEmpty else { return nil }
        let pathAndQuery = rest[authorityEnd...]
        if let question = pathAndQuery.firstIndex(of: "?") {
            path = String(pathAndQuery[..<question])
            query = String(pathAndQuery[pathAndQuery.index(after: question)...])
        } else {
            path = String(pathAndQuery)
            query = ""
        }
    }

    /// The Host header: the port only when it is not the scheme's default, as HTTP clients send it.
    var hostHeader: String {
        guard let port, !(scheme == "http" && port == 80), !(scheme == "https" && port == 443) else { return host.lowercased() }
        return "\(host.lowercased()):\(port)"
    }
}

/// SigV4's two forms of the request time, both in UTC: 20130524T000000Z and 20130524.
struct AMZDate: Equatable {
    let full: String
    var day: String { String(full.prefix(8)) }

    init(_ date: Date) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        full = "\(year)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay % 3600 / 60))\(two(secondOfDay % 60))Z"
    }

    /// Parses "YYYYMMDDTHHMMSSZ" back into a date (years 1970 to 9999).
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(bytes[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
              year >= 1970, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        guard civil(fromDays: days) == (year, month, day) else { return nil }  // rejects 20130231
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    // Howard Hinnant's proleptic Gregorian calendar conversions.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
