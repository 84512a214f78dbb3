/// Writes answer JSON by hand: keys in OpenAI's order, nulls written out, and no
/// encoder round trip for each streamed chunk.
import Foundation
import ModelFiles

public indirect enum JSONText: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONText])
    case object([(String, JSONText)])

    public var data: Data { Data(text.utf8) }

    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let v): out += v ? "true" : "false"
        case .int(let v): out += String(v)
        // JSON has no NaN or infinity; a timing that is one means "unknown".
        case .double(let v): out += v.isFinite ? "\(v)" : "null"
        case .string(let v): JSONString.append(v, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                JSONString.append(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }
}
