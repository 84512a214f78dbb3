/// One turn of a conversation, in the OpenAI/Hugging Face shape: the role is
/// "system", "user" or "assistant" (templates pass other roles through verbatim).
public struct ChatMessage: Sendable, Codable, Equatable, Hashable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }
}
