import ArgumentParser
import Foundation
import ModelFiles
import Tokenizer

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as a JSON array (vocab-only GGUF files work)."
    )

    @Option(name: .long, help: "Path to a GGUF model or vocabulary file.")
    var model: String
    @Flag(name: .customLong("no-bos"), help: "Do not add the BOS token even if the model asks for it.")
    var noBOS = false
    @Flag(name: .customLong("no-special"), help: "Treat special-token text (e.g. <|im_start|>) as plain text.")
    var noSpecial = false
    @Argument(help: "The text to tokenize.")
    var text: String

    func run() throws {
        let file = try GGUFFile(path: model)
        let tokenizer = try TokenizerLoader.load(from: file)
        let ids = tokenizer.encode(text, addSpecial: !noBOS, parseSpecial: !noSpecial)
        print("[" + ids.map(String.init).joined(separator: ",") + "]")
    }
}
