import ArgumentParser
import Foundation

/// The `lambda-llm` command line: thin front door over Generation and Engine.
@main
struct LambdaLLM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lambda-llm",
        abstract: "Make Llama-family models small and fast enough for AWS Lambda, measure them, serve them.",
        subcommands: [
            GenerateCommand.self, TokenizeCommand.self, InspectCommand.self, BenchCommand.self, ConvertCommand.self, SynthesizeCommand.self,
            StudyCommand.self, ServeCommand.self, EvaluateCommand.self, LambdaCommand.self, InvokeLocalCommand.self, PackageCommand.self,
            FetchCommand.self, DebugLogitsCommand.self, DebugSigV4Command.self,
        ]
    )

    /// Lambda starts a custom runtime as `bootstrap` with no arguments: the same binary
    /// copied under that name runs the runtime.
    static func main() async {
        let name = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent }
        if name == "bootstrap" {
            await main(["lambda"] + CommandLine.arguments.dropFirst())
        } else {
            await main(nil)
        }
    }
}
