import Foundation
import Generation
import ModelFiles
import Testing
import TestSupport

/// Expected prompts below were produced by rendering each family's official Jinja
/// template (Hugging Face `tokenizer_config.json` / GGUF `tokenizer.chat_template`)
/// with Python jinja2 3.1.6 using Hugging Face's settings (sandboxed environment,
/// trim_blocks=True, lstrip_blocks=True), bos_token "<BOS>" and eos_token "</s>".
/// Mistral's template raises on a system message, so its system cases were rendered
/// with the system text merged into the first user message the way `ChatTemplate`
/// documents ("system\n\nuser").
struct RenderCase: Sendable, CustomTestStringConvertible {
    enum Template: String, Sendable { case smolLM2, chatML, llama3, llama31, llama2, mistral, zephyr }
    enum Conversation: String, Sendable { case single, system, multi, nosys_multi }
    let template: Template
    let conversation: Conversation
    let generationPrompt: Bool
    let expected: String

    init(_ template: Template, _ conversation: Conversation, generationPrompt: Bool, _ expected: String) {
        self.template = template
        self.conversation = conversation
        self.generationPrompt = generationPrompt
        self.expected = expected
    }

    var testDescription: String { "\(template) \(conversation) generationPrompt=\(generationPrompt)" }

    var chatTemplate: ChatTemplate {
        switch template {
        case .smolLM2: ChatTemplate(family: .chatML, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        case .chatML: ChatTemplate(family: .chatML)
        case .llama3: ChatTemplate(family: .llama3)
        case .llama31: ChatTemplate(family: .llama31)
        case .llama2: ChatTemplate(family: .llama2)
        case .mistral: ChatTemplate(family: .mistral)
        case .zephyr: ChatTemplate(family: .zephyr)
        }
    }

    var messages: [ChatMessage] {
        let system = ChatMessage.system("You are terse.")
        let user1 = ChatMessage.user("Hi there! ")
        let answer = ChatMessage.assistant(" Hello, how can I help?\n")
        let user2 = ChatMessage.user("Café \u{e9}t\u{e9} \u{2014} \u{1F600}?")
        switch conversation {
        case .single: return [user1]
        case .system: return [system, user1]
        case .multi: return [system, user1, answer, user2]
        case .nosys_multi: return [user1, answer, user2]
        }
    }
}

let renderCases: [RenderCase] = [
    RenderCase(.smolLM2, .single, generationPrompt: true,
               "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.smolLM2, .single, generationPrompt: false,
               "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n"),
    RenderCase(.smolLM2, .system, generationPrompt: true,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.smolLM2, .system, generationPrompt: false,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n"),
    RenderCase(.smolLM2, .multi, generationPrompt: true,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.smolLM2, .multi, generationPrompt: false,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n"),
    RenderCase(.smolLM2, .nosys_multi, generationPrompt: true,
               "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.smolLM2, .nosys_multi, generationPrompt: false,
               "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n"),
    RenderCase(.chatML, .single, generationPrompt: true,
               "<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.chatML, .single, generationPrompt: false,
               "<|im_start|>user\nHi there! <|im_end|>\n"),
    RenderCase(.chatML, .system, generationPrompt: true,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.chatML, .system, generationPrompt: false,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n"),
    RenderCase(.chatML, .multi, generationPrompt: true,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.chatML, .multi, generationPrompt: false,
               "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n"),
    RenderCase(.chatML, .nosys_multi, generationPrompt: true,
               "<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n<|im_start|>assistant\n"),
    RenderCase(.chatML, .nosys_multi, generationPrompt: false,
               "<|im_start|>user\nHi there! <|im_end|>\n<|im_start|>assistant\n Hello, how can I help?\n<|im_end|>\n<|im_start|>user\nCafé été — 😀?<|im_end|>\n"),
    RenderCase(.llama3, .single, generationPrompt: true,
               "<BOS><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama3, .single, generationPrompt: false,
               "<BOS><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"),
    RenderCase(.llama3, .system, generationPrompt: true,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama3, .system, generationPrompt: false,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"),
    RenderCase(.llama3, .multi, generationPrompt: true,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama3, .multi, generationPrompt: false,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|>"),
    RenderCase(.llama3, .nosys_multi, generationPrompt: true,
               "<BOS><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama3, .nosys_multi, generationPrompt: false,
               "<BOS><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|>"),
    RenderCase(.llama31, .single, generationPrompt: true,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama31, .single, generationPrompt: false,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"),
    RenderCase(.llama31, .system, generationPrompt: true,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama31, .system, generationPrompt: false,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"),
    RenderCase(.llama31, .multi, generationPrompt: true,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama31, .multi, generationPrompt: false,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|>"),
    RenderCase(.llama31, .nosys_multi, generationPrompt: true,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
    RenderCase(.llama31, .nosys_multi, generationPrompt: false,
               "<BOS><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello, how can I help?<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nCafé été — 😀?<|eot_id|>"),
    RenderCase(.llama2, .single, generationPrompt: true,
               "<BOS>[INST] Hi there! [/INST]"),
    RenderCase(.llama2, .single, generationPrompt: false,
               "<BOS>[INST] Hi there! [/INST]"),
    RenderCase(.llama2, .system, generationPrompt: true,
               "<BOS>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there! [/INST]"),
    RenderCase(.llama2, .system, generationPrompt: false,
               "<BOS>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there! [/INST]"),
    RenderCase(.llama2, .multi, generationPrompt: true,
               "<BOS>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there! [/INST] Hello, how can I help? </s><BOS>[INST] Café été — 😀? [/INST]"),
    RenderCase(.llama2, .multi, generationPrompt: false,
               "<BOS>[INST] <<SYS>>\nYou are terse.\n<</SYS>>\n\nHi there! [/INST] Hello, how can I help? </s><BOS>[INST] Café été — 😀? [/INST]"),
    RenderCase(.llama2, .nosys_multi, generationPrompt: true,
               "<BOS>[INST] Hi there! [/INST] Hello, how can I help? </s><BOS>[INST] Café été — 😀? [/INST]"),
    RenderCase(.llama2, .nosys_multi, generationPrompt: false,
               "<BOS>[INST] Hi there! [/INST] Hello, how can I help? </s><BOS>[INST] Café été — 😀? [/INST]"),
    RenderCase(.mistral, .single, generationPrompt: true,
               "<BOS>[INST] Hi there!  [/INST]"),
    RenderCase(.mistral, .single, generationPrompt: false,
               "<BOS>[INST] Hi there!  [/INST]"),
    RenderCase(.mistral, .system, generationPrompt: true,
               "<BOS>[INST] You are terse.\n\nHi there!  [/INST]"),
    RenderCase(.mistral, .system, generationPrompt: false,
               "<BOS>[INST] You are terse.\n\nHi there!  [/INST]"),
    RenderCase(.mistral, .multi, generationPrompt: true,
               "<BOS>[INST] You are terse.\n\nHi there!  [/INST] Hello, how can I help?\n</s>[INST] Café été — 😀? [/INST]"),
    RenderCase(.mistral, .multi, generationPrompt: false,
               "<BOS>[INST] You are terse.\n\nHi there!  [/INST] Hello, how can I help?\n</s>[INST] Café été — 😀? [/INST]"),
    RenderCase(.mistral, .nosys_multi, generationPrompt: true,
               "<BOS>[INST] Hi there!  [/INST] Hello, how can I help?\n</s>[INST] Café été — 😀? [/INST]"),
    RenderCase(.mistral, .nosys_multi, generationPrompt: false,
               "<BOS>[INST] Hi there!  [/INST] Hello, how can I help?\n</s>[INST] Café été — 😀? [/INST]"),
    RenderCase(.zephyr, .single, generationPrompt: true,
               "<|user|>\nHi there! </s>\n<|assistant|>\n"),
    RenderCase(.zephyr, .single, generationPrompt: false,
               "<|user|>\nHi there! </s>\n"),
    RenderCase(.zephyr, .system, generationPrompt: true,
               "<|system|>\nYou are terse.</s>\n<|user|>\nHi there! </s>\n<|assistant|>\n"),
    RenderCase(.zephyr, .system, generationPrompt: false,
               "<|system|>\nYou are terse.</s>\n<|user|>\nHi there! </s>\n"),
    RenderCase(.zephyr, .multi, generationPrompt: true,
               "<|system|>\nYou are terse.</s>\n<|user|>\nHi there! </s>\n<|assistant|>\n Hello, how can I help?\n</s>\n<|user|>\nCafé été — 😀?</s>\n<|assistant|>\n"),
    RenderCase(.zephyr, .multi, generationPrompt: false,
               "<|system|>\nYou are terse.</s>\n<|user|>\nHi there! </s>\n<|assistant|>\n Hello, how can I help?\n</s>\n<|user|>\nCafé été — 😀?</s>\n"),
    RenderCase(.zephyr, .nosys_multi, generationPrompt: true,
               "<|user|>\nHi there! </s>\n<|assistant|>\n Hello, how can I help?\n</s>\n<|user|>\nCafé été — 😀?</s>\n<|assistant|>\n"),
    RenderCase(.zephyr, .nosys_multi, generationPrompt: false,
               "<|user|>\nHi there! </s>\n<|assistant|>\n Hello, how can I help?\n</s>\n<|user|>\nCafé été — 😀?</s>\n"),
]

/// Official template texts, as found in the models' tokenizer configs.
enum OfficialTemplates {
    static let smollm2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    static let chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    static let llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
    static let llama2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
    static let mistral = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
    static let zephyr = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
    /// The opening of meta-llama/Llama-3.1-8B-Instruct's template (the full text is long).
    static let llama31Excerpt = "{{- bos_token }}\n{%- if not date_string is defined %}\n    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{{- \"Cutting Knowledge Date: December 2023\\n\" }}"
    /// microsoft/Phi-3-mini: `<|user|>` like Zephyr but a different end marker.
    static let phi3 = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '\\n'}}{% endif %}{% endfor %}"
}

@Suite("Chat templates")
struct ChatTemplateTests {
    @Test("render reproduces the official Jinja template's output", arguments: renderCases)
    func rendersLikeJinja(_ c: RenderCase) {
        let prompt = c.chatTemplate.render(c.messages, addGenerationPrompt: c.generationPrompt, bosText: "<BOS>", eosText: "</s>")
        #expect(prompt == c.expected)
    }

    @Test("detect recognises each family by its markers")
    func detectsFamilies() {
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.chatml) == ChatTemplate(family: .chatML))
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.llama3) == ChatTemplate(family: .llama3))
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.llama31Excerpt) == ChatTemplate(family: .llama31))
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.llama2) == ChatTemplate(family: .llama2))
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.mistral) == ChatTemplate(family: .mistral))
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.zephyr) == ChatTemplate(family: .zephyr))
    }

    @Test("detect extracts SmolLM2's default system prompt from its template")
    func detectsDefaultSystemPrompt() {
        let template = ChatTemplate.detect(fromTemplate: OfficialTemplates.smollm2)
        #expect(template?.family == .chatML)
        #expect(template?.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
    }

    @Test("detect reads the default system prompt whether the template holds a raw newline or the \\n escape")
    func defaultSystemPromptEscapes() {
        let escaped = "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are Bob\\'s helper<|im_end|>\\n' }}{% endif %}"
        #expect(ChatTemplate.detect(fromTemplate: escaped)?.defaultSystemPrompt == "You are Bob's helper")
        let dynamic = "{{ '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
        #expect(ChatTemplate.detect(fromTemplate: dynamic)?.defaultSystemPrompt == nil)
        // Qwen2.5's shape: a dynamic system turn first, the plain default in the else branch.
        let qwen = dynamic + "{% else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
        #expect(ChatTemplate.detect(fromTemplate: qwen)?.defaultSystemPrompt == "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    }

    @Test("later Mistral formats with tools or system-prompt markers are left unrecognised")
    func laterMistralUnknown() {
        #expect(ChatTemplate.detect(fromTemplate: "{{ bos_token }}{% if message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% else %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% endif %}") == nil)
        #expect(ChatTemplate.detect(fromTemplate: "{{- \"[AVAILABLE_TOOLS] [\" }}{{- \"[INST] \" + message[\"content\"] + \"[/INST]\" }}") == nil)
    }

    @Test("detect returns nil for a missing, empty or unknown template")
    func unknownTemplates() {
        #expect(ChatTemplate.detect(fromTemplate: nil) == nil)
        #expect(ChatTemplate.detect(fromTemplate: "") == nil)
        #expect(ChatTemplate.detect(fromTemplate: OfficialTemplates.phi3) == nil)
        #expect(ChatTemplate.detect(fromTemplate: "{{ messages[0]['content'] }}") == nil)
    }

    @Test("SmolLM2's GGUF template is detected as ChatML with its default system prompt",
          .enabled(if: TestAssets.has(TestAssets.smolLM2)))
    func smolLM2FromFile() throws {
        let file = try GGUFFile(path: TestAssets.smolLM2.path)
        let template = ChatTemplate.detect(fromTemplate: file.metadata.string("tokenizer.chat_template"))
        #expect(template == ChatTemplate(family: .chatML, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
    }

    @Test("Qwen2's GGUF template is detected as ChatML with its own default system prompt",
          .enabled(if: TestAssets.has(TestAssets.vocab("qwen2"))))
    func qwen2FromFile() throws {
        let file = try GGUFFile(path: TestAssets.vocab("qwen2").path)
        let template = ChatTemplate.detect(fromTemplate: file.metadata.string("tokenizer.chat_template"))
        #expect(template == ChatTemplate(family: .chatML, defaultSystemPrompt: "You are a helpful assistant"))
    }

    @Test("each family names its end-of-turn marker as a stop string")
    func stopStrings() {
        #expect(ChatTemplate(family: .chatML).stopStrings == ["<|im_end|>"])
        #expect(ChatTemplate(family: .llama3).stopStrings.contains("<|eot_id|>"))
        #expect(ChatTemplate(family: .llama31).stopStrings.contains("<|eot_id|>"))
        for family in [ChatTemplate.Family.llama2, .mistral, .zephyr] {
            #expect(ChatTemplate(family: family).stopStrings == ["</s>"])
        }
    }

    @Test("a nil bosText leaves BOS to the tokenizer instead of writing it")
    func nilBOS() {
        let prompt = ChatTemplate(family: .llama3).render([.user("Hi")], addGenerationPrompt: true, bosText: nil)
        #expect(prompt == "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    @Test("Llama 3.1 writes the caller's date into its system preamble")
    func llama31Date() {
        let prompt = ChatTemplate(family: .llama31, todayDate: "01 Jan 2026").render([.user("Hi")], addGenerationPrompt: false, bosText: "<|begin_of_text|>")
        #expect(prompt == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan 2026\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>")
    }
}
