/// YAML text written by hand, safely: every string the user or a file supplies goes out
/// double-quoted with YAML's escapes, so no name can end a scalar, open a comment, start
/// an anchor or turn into a number, a boolean or null. Comments get one sanitized line.
public enum YAMLText {
    /// A double-quoted YAML scalar that reads back as exactly `text`.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{0}": out += "\\0"
            // YAML 1.1 line breaks (NEL, LS, PS) and the byte-order mark would be read as
            // breaks or dropped; C0/C1 controls and DEL are not printable in YAML.
            case "\u{85}": out += "\\N"
            case "\u{2028}": out += "\\L"
            case "\u{2029}": out += "\\P"
            case "\u{FEFF}": out += "\\uFEFF"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else if (0xD800...0xDFFF).contains(scalar.value) || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\\u" + hex(scalar.value, width: 4)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `text` made safe for the rest of a `#` comment line: breaks and controls become spaces.
    public static func commentText(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            let breaks: Set<UInt32> = [0x85, 0x2028, 0x2029, 0xFEFF]
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || breaks.contains(scalar.value) {
                out += " "
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `# text` lines, wrapped at `width`, each indented by `indent` spaces.
    public static func comment(_ text: String, indent: Int = 0, width: Int = 100) -> [String] {
        let prefix = String(repeating: " ", count: indent) + "# "
        var lines: [String] = []
        var line = ""
        for word in commentText(text).split(separator: " ", omittingEmptySubsequences: true) {
            if !line.isEmpty, prefix.count + line.count + 1 + word.count > width {
                lines.append(prefix + line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(prefix + line) }
        return lines
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
