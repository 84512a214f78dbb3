/// Turns a conversation into the prompt text a chat model was trained on.
///
/// GGUF files carry the model's Hugging Face Jinja template (`tokenizer.chat_template`).
/// Rather than embed a Jinja interpreter, `detect(fromTemplate:)` recognises the few
/// template families Llama-style models use by their distinctive markers, and
/// `render` reproduces exactly what the official template renders (checked in the
/// tests against jinja2 with Hugging Face's `trim_blocks`/`lstrip_blocks` settings).
/// Unknown templates give nil so the caller can fall back to the raw prompt.
public struct ChatTemplate: Sendable, Equatable {
    public enum Family: String, Sendable, Equatable, CaseIterable {
        /// `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2, Qwen, Hermes...).
        case chatML
        /// Meta-Llama-3-Instruct: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`.
        case llama3
        /// Llama 3.1/3.2/3.3-Instruct: as Llama 3, but always opens with a system turn
        /// that states the knowledge cutoff and today's date.
        case llama31
        /// Llama-2-chat: `<s>[INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST] answer </s>`.
        case llama2
        /// Mistral-7B-Instruct v0.1/v0.2: `<s>[INST] user [/INST]answer</s>`, no system role.
        case mistral
        /// Zephyr / TinyLlama-Chat: `<|user|>\ncontent</s>\n`.
        case zephyr
    }

    public var family: Family
    /// A system prompt the template inserts when the conversation has none
    /// (SmolLM2: "You are a helpful AI assistant named SmolLM, trained by Hugging Face").
    /// Only ChatML templates do this among the supported families.
    public var defaultSystemPrompt: String?
    /// The `date_string` of Llama 3.1+ templates. Their fallback, used when the
    /// renderer defines no `strftime_now`, is "26 Jul 2024"; Llama 3.2's template asks
    /// for today's date when it can, so a caller wanting that sets it here.
    public var todayDate: String

    public init(family: Family, defaultSystemPrompt: String? = nil, todayDate: String = "26 Jul 2024") {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        self.todayDate = todayDate
    }

    /// Recognises a template family from the Jinja text of `tokenizer.chat_template`;
    /// nil when absent or unknown.
    public static func detect(fromTemplate jinja: String?) -> ChatTemplate? {
        guard let jinja, !jinja.isEmpty else { return nil }
        if jinja.contains("<|im_start|>") {
            return ChatTemplate(family: .chatML, defaultSystemPrompt: chatMLDefaultSystemPrompt(in: jinja))
        }
        if jinja.contains("<|start_header_id|>") {
            return ChatTemplate(family: jinja.contains("Cutting Knowledge Date") ? .llama31 : .llama3)
        }
        if jinja.contains("[INST]") {
            if jinja.contains("<<SYS>>") { return ChatTemplate(family: .llama2) }
            // Later Mistral formats (v0.3 tools, v7 system prompts) space and place
            // turns differently; better the raw prompt than a subtly wrong one.
            let laterMistral = ["[AVAILABLE_TOOLS]", "[SYSTEM_PROMPT]", "[TOOL_CALLS]"]
            return laterMistral.contains { jinja.contains($0) } ? nil : ChatTemplate(family: .mistral)
        }
        if jinja.contains("<|user|>") && jinja.contains("<|assistant|>") && jinja.contains("eos_token")
            && !jinja.contains("<|end|>") {
            return ChatTemplate(family: .zephyr)
        }
        return nil
    }

    /// Text that marks the end of the assistant's turn, for a `StopSequenceMatcher`
    /// (the engine normally stops on the matching end-of-generation token first).
    public var stopStrings: [String] {
        switch family {
        case .chatML: ["<|im_end|>"]
        case .llama3, .llama31: ["<|eot_id|>", "<|end_of_text|>"]
        case .llama2, .mistral, .zephyr: ["</s>"]
        }
    }

    /// The prompt text for `messages`. `bosText` is what the template writes for
    /// `bos_token` (e.g. "<s>", "<|begin_of_text|>"), `eosText` for `eos_token` (nil:
    /// "</s>"); tokenize the result with special-token parsing and without adding BOS
    /// again. Passing nil for `bosText` leaves BOS to the tokenizer instead, which is only
    /// exact for single-turn Llama-2 prompts: its template repeats BOS before every turn.
    /// Templates that would raise (roles out of order) are rendered as if they did not check.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, bosText: String?, eosText: String? = nil) -> String {
        let bos = bosText ?? ""
        let eos = eosText ?? "</s>"
        var out = ""
        switch family {
        case .chatML:
            for (index, message) in messages.enumerated() {
                if index == 0, message.role != "system", let system = defaultSystemPrompt {
                    out += "<|im_start|>system\n" + system + "<|im_end|>\n"
                }
                out += "<|im_start|>" + message.role + "\n" + message.content + "<|im_end|>\n"
            }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }

        case .llama3:
            for (index, message) in messages.enumerated() {
                if index == 0 { out += bos }
                out += llama3Turn(message.role, Self.jinjaTrim(message.content))
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }

        case .llama31:
            var rest = messages[...]
            var system = ""
            if let first = rest.first, first.role == "system" {
                system = Self.jinjaTrim(first.content)
                rest = rest.dropFirst()
            }
            out += bos
            out += "<|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: " + todayDate + "\n\n"
                + system + "<|eot_id|>"
            for message in rest { out += llama3Turn(message.role, Self.jinjaTrim(message.content)) }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }

        case .llama2:
            // The official template has no generation prompt: a prompt ending in
            // "[/INST]" already asks for the answer.
            var rest = messages[...]
            var system: String?
            if let first = rest.first, first.role == "system" {
                system = first.content
                rest = rest.dropFirst()
            }
            for (index, message) in rest.enumerated() {
                var content = message.content
                if index == 0, let system { content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content }
                switch message.role {
                case "user": out += bos + "[INST] " + Self.jinjaTrim(content) + " [/INST]"
                case "assistant": out += " " + Self.jinjaTrim(content) + " " + eos
                default: break
                }
            }

        case .mistral:
            // The official template rejects a system role; like Mistral's later
            // templates, put it before the first user message, separated by a blank line.
            var rest = messages[...]
            var system: String?
            if let first = rest.first, first.role == "system" {
                system = first.content
                rest = rest.dropFirst()
            }
            out += bos
            var systemPending = system
            for message in rest {
                switch message.role {
                case "user":
                    var content = message.content
                    if let s = systemPending { content = s + "\n\n" + content; systemPending = nil }
                    out += "[INST] " + content + " [/INST]"
                case "assistant": out += message.content + eos
                default: break
                }
            }

        case .zephyr:
            for message in messages {
                switch message.role {
                case "user", "system", "assistant":
                    out += "<|" + message.role + "|>\n" + message.content + eos + "\n"
                default: break
                }
            }
            if addGenerationPrompt && !messages.isEmpty { out += "<|assistant|>\n" }
        }
        return out
    }

    private func llama3Turn(_ role: String, _ content: String) -> String {
        "<|start_header_id|>" + role + "<|end_header_id|>\n\n" + content + "<|eot_id|>"
    }

    /// Jinja's `trim` and Python's `str.strip()`: Unicode white space at both ends,
    /// including the information separators U+001C...U+001F that Python counts too.
    static func jinjaTrim(_ text: String) -> String {
        func isSpace(_ s: Unicode.Scalar) -> Bool {
            s.properties.isWhitespace || (0x1C...0x1F).contains(s.value)
        }
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[start...last])
    }

    /// The literal system turn a ChatML template inserts when the conversation has
    /// none, e.g. `'<|im_start|>system\nYou are ...<|im_end|>\n'`: the first system turn
    /// written as plain text (others are built from the messages). The template text
    /// may hold the newline raw or as the Jinja escape `\n`.
    static func chatMLDefaultSystemPrompt(in jinja: String) -> String? {
        let opener = "<|im_start|>system"
        var searchStart = jinja.startIndex
        while let open = jinja.range(of: opener, range: searchStart..<jinja.endIndex) {
            searchStart = open.upperBound
            var rest = jinja[open.upperBound...]
            if rest.hasPrefix("\n") {
                rest = rest.dropFirst()
            } else if rest.hasPrefix("\\n") {
                rest = rest.dropFirst(2)
            } else {
                continue
            }
            guard let close = rest.range(of: "<|im_end|>") else { return nil }
            let literal = rest[..<close.lowerBound]
            // Jinja code or a string boundary inside means the turn is built dynamically.
            let dynamic = ["{{", "{%", "message"].contains { literal.contains($0) }
            if !dynamic && !containsUnescapedQuote(literal) { return unescapeJinjaLiteral(literal) }
        }
        return nil
    }

    private static func containsUnescapedQuote(_ s: Substring) -> Bool {
        var escaped = false
        for c in s {
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "'" || c == "\"" {
                return true
            }
        }
        return false
    }

    private static func unescapeJinjaLiteral(_ s: Substring) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(c)
                }
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                out.append(c)
            }
        }
        return out
    }
}
