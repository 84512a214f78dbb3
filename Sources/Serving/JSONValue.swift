/// A parsed JSON request body that keeps what Foundation's `JSONSerialization`
/// blurs on Linux: `true` and `1` stay different, and integers stay exact up to
/// `UInt64.max`, so the validator can name a field of the wrong type.
import Foundation

enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// Integers above `Int64.max` (only a seed can usefully be that big).
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let v = try? c.decode(Bool.self) { self = .bool(v); return }
        if let v = try? c.decode(Int64.self) { self = .integer(v); return }
        if let v = try? c.decode(UInt64.self) { self = .unsigned(v); return }
        if let v = try? c.decode(Double.self) { self = .number(v); return }
        if let v = try? c.decode(String.self) { self = .string(v); return }
        if let v = try? c.decode([JSONValue].self) { self = .array(v); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    /// Parses `data`; on failure the error names the parser's reason where
    /// Foundation gives one (JSONDecoder on Linux says only "not valid JSON", so
    /// the reason comes from a second, failing parse with JSONSerialization).
    static func parse(_ data: Data) throws(APIError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalidJSON(reason(data))
        }
    }

    private static func reason(_ data: Data) -> String {
        if data.isEmpty { return "the body is empty" }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String, !detail.isEmpty {
                return detail
            }
        }
        return "the body is not valid JSON"
    }

    /// The JSON type's name, for messages like "expected a string, got a number".
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .unsigned, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
