import ArgumentParser

/// The `lambda-llm` command line: thin front door over Generation and Engine.
@main
struct LambdaLLM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda-llm",
        abstract: "Make Llama-family models small and fast enough for AWS Lambda, measure them, serve them.",
        subcommands: [
            GenerateCommand.self, TokenizeCommand.self, InspectCommand.self, BenchCommand.self, ConvertCommand.self, SynthesizeCommand.self,
            StudyCommand.self, ServeCommand.self, EvaluateCommand.self, DebugLogitsCommand.self,
        ]
    )
}
