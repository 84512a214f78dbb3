import ArgumentParser

@main
struct LambdaLLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda-llm",
        abstract: "Make Llama-family models small and fast enough for AWS Lambda, measure them, serve them."
    )
}
