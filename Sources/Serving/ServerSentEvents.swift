/// Server-sent event framing of streamed answers, as OpenAI streams them: each
/// chunk on one `data:` line, a blank line after, `[DONE]` at the end. Chunk JSON
/// never holds a raw newline (JSONText escapes them), so one line always suffices.
import Foundation

public enum ServerSentEvents {
    public static func event(_ json: Data) -> Data {
        var out = Data("data: ".utf8)
        out.append(json)
        out.append(contentsOf: [0x0A, 0x0A])
        return out
    }

    public static let done = Data("data: [DONE]\n\n".utf8)

    /// An error met after the stream started: the status line is already sent, so
    /// the OpenAI error object goes out as one more event (as OpenAI does).
    public static func error(_ error: APIError) -> Data {
        event(error.json())
    }
}
