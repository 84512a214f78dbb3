import Foundation
import LambdaLimits
import Study

/// Numbers as the packager's text shows them, locale-independent: Lambda's MB (2^20 bytes).
enum Format {
    /// 1234567 -> "1,234,567": the study's rule, so the two read alike.
    static func grouped(_ value: Int) -> String { Figures.grouped(value) }

    /// Bytes as MB with one decimal: 98362432 -> "93.8 MB".
    static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / Double(LambdaLimits.bytesPerMB))
    }

    /// A file size: bytes below 1 MB, else MB with one decimal.
    static func size(_ bytes: Int64) -> String {
        bytes < LambdaLimits.bytesPerMB ? "\(grouped(Int(bytes))) bytes" : megabytes(bytes)
    }

    /// "a, b, c and 4 more".
    static func list(_ items: [String], limit: Int = 4) -> String {
        items.count <= limit
            ? items.joined(separator: ", ")
            : items.prefix(limit).joined(separator: ", ") + " and \(items.count - limit) more"
    }

    /// At most `limit` characters, cut with an ellipsis: AWS caps description fields.
    static func truncated(_ text: String, limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(limit - 3, 0))) + "..."
    }

    /// Whole MB, rounded up: what Lambda settings are written in.
    static func wholeMegabytes(_ bytes: Int64) -> Int {
        let mb = LambdaLimits.bytesPerMB
        return Int(clamping: bytes / mb + (bytes % mb > 0 ? 1 : 0))
    }

    static func seconds(_ value: Double) -> String {
        value < 100 ? String(format: "%.1f s", value) : "\(grouped(Int(value.rounded()))) s"
    }
}
