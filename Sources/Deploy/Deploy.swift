/// Deploy: turns a GGUF model and our runtime binary into something AWS Lambda runs
/// (`lambda-llm package`): a container-image build context or a zip for provided.al2023,
/// a SAM template sized from the study's verdict (or an estimate from the GGUF header),
/// and a README. Checks the binary before anything is written: its ELF machine, whether it
/// needs the Swift runtime as shared libraries, and which glibc versions it needs.
///
/// Owns: the ELF reader, the glibc check, the zip writer, YAML and Dockerfile text, the
/// sizing rules that turn a verdict into MemorySize/EphemeralStorage/Timeout.
/// Must not know: how a model computes or serves, how the runtime talks to Lambda, or AWS
/// itself (it writes files; deploying them is the user's `sam deploy`). Every Lambda number
/// comes from `LambdaLimits`; every memory rule from the study's `LambdaPlanner`.
