import LambdaLimits

/// The SAM template (`template.yaml`) for one function with a streaming function URL,
/// written by hand: every user-supplied string is double-quoted (YAMLText), every number
/// carries a comment saying where it came from, and the only IAM permission an S3-loaded
/// function gets is s3:GetObject on its model object and that object's `.sha256` sidecar.
public struct SAMTemplate: Sendable, Equatable {
    public static let functionLogicalID = "LambdaLLMFunction"
    /// SAM names the URL resource it generates from FunctionUrlConfig `<function>Url`.
    public static let urlLogicalID = functionLogicalID + "Url"
    public static let authParameter = "FunctionUrlAuthType"

    public var source: DeploymentSource
    public var architecture: LambdaArchitecture
    public var sizing: DeploymentSizing
    /// What LAMBDA_LLM_MODEL says: /opt/model/NAME.gguf (image) or s3://bucket/key.
    public var modelLocation: String
    public var s3: S3ModelLocation?
    /// e.g. "SmolLM2-135M-Instruct.Q4_1.gguf (98,362,432 bytes)".
    public var modelDescription: String
    public var functionName: String?
    /// LAMBDA_LLM_CONTEXT, when --context was given.
    public var contextLength: Int?
    /// LAMBDA_LLM_MODEL_NAME, when the file name in the image differs from the model's own.
    public var modelName: String?
    public var dockerTag: String
    public var glibcSummary: String

    public init(source: DeploymentSource, architecture: LambdaArchitecture, sizing: DeploymentSizing, modelLocation: String,
                s3: S3ModelLocation?, modelDescription: String, functionName: String?, contextLength: Int?,
                modelName: String?, dockerTag: String, glibcSummary: String) {
        self.source = source
        self.architecture = architecture
        self.sizing = sizing
        self.modelLocation = modelLocation
        self.s3 = s3
        self.modelDescription = modelDescription
        self.functionName = functionName
        self.contextLength = contextLength
        self.modelName = modelName
        self.dockerTag = dockerTag
        self.glibcSummary = glibcSummary
    }

    public var environment: [(name: String, value: String)] {
        var variables = [("LAMBDA_LLM_MODEL", modelLocation), ("LAMBDA_LLM_INVOKE_MODE", "RESPONSE_STREAM")]
        if let contextLength { variables.append(("LAMBDA_LLM_CONTEXT", String(contextLength))) }
        if let modelName { variables.append(("LAMBDA_LLM_MODEL_NAME", modelName)) }
        return variables
    }

    public func render(limits: LambdaLimits = .current) -> String {
        let q = YAMLText.quoted
        let packaging = source == .image ? "container image" : "zip on \(limits.providedAL2023Runtime), model from S3"
        var lines: [String] = []
        lines += YAMLText.comment("LambdaLLM: \(modelDescription) on AWS Lambda (\(packaging), \(architecture.rawValue)).")
        lines += YAMLText.comment("Written by `lambda-llm package`; README.md next to this file says how to deploy and call it.")
        lines += YAMLText.comment("Sizes: from \(sizing.basis).")
        lines += YAMLText.comment(glibcSummary + ".")
        lines += [
            "AWSTemplateFormatVersion: \"2010-09-09\"",
            "Transform: AWS::Serverless-2016-10-31",
            // CloudFormation allows 1,024 characters here, Lambda 256 in the function's Description.
            "Description: " + q(Format.truncated("LambdaLLM: \(modelDescription) (\(packaging), \(architecture.rawValue))",
                                                 limit: 1024)),
            "",
            "Parameters:",
            "  \(Self.authParameter):",
            "    Type: String",
            "    Default: AWS_IAM",
            "    AllowedValues:",
            "      - AWS_IAM",
            "      - NONE",
            "    Description: " + q("AWS_IAM: callers sign requests with SigV4 (recommended). NONE: anyone who has the URL "
                + "can call the model and run up your bill."),
            "",
            "Resources:",
            "  \(Self.functionLogicalID):",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
        ]
        if let functionName { lines.append("      FunctionName: " + q(functionName)) }
        lines.append("      Description: " + q(Format.truncated("LambdaLLM serving \(modelDescription)", limit: 256)))
        switch source {
        case .image:
            lines.append("      PackageType: Image")
        case .s3:
            lines += [
                "      Runtime: \(limits.providedAL2023Runtime)",
                "      Handler: bootstrap",
                "      CodeUri: zip/",
            ]
        }
        lines += [
            "      Architectures:",
            "        - \(architecture.rawValue)",
        ]
        lines += YAMLText.comment("Memory: " + sizing.memoryMB.reason + ".", indent: 6)
        lines.append("      MemorySize: \(sizing.memoryMB.value)")
        lines += YAMLText.comment("Ephemeral storage (/tmp): " + sizing.ephemeralStorageMB.reason + ".", indent: 6)
        lines += [
            "      EphemeralStorage:",
            "        Size: \(sizing.ephemeralStorageMB.value)",
        ]
        lines += YAMLText.comment("Timeout: " + sizing.timeoutSeconds.reason + ".", indent: 6)
        lines.append("      Timeout: \(sizing.timeoutSeconds.value)")
        if source == .s3, let s3 {
            lines += YAMLText.comment(
                "Least privilege: read the model object and its checksum sidecar, nothing else. s3:GetObject also allows "
                    + "HEAD (the sha256 metadata). Without s3:ListBucket a missing object reads as 403, not 404. "
                    + "IAM wildcards in the key are escaped (${*}, ${?}, ${$}). The partition is aws; change it in "
                    + "China or GovCloud regions.", indent: 6)
            lines += [
                "      Policies:",
                "        - Version: \"2012-10-17\"",
                "          Statement:",
                "            - Effect: Allow",
                "              Action: s3:GetObject",
                "              Resource:",
                "                - " + q(s3.objectARN),
                "                - " + q(s3.sidecarARN),
            ]
        }
        lines += [
            "      Environment:",
            "        Variables:",
        ]
        for (name, value) in environment { lines.append("          \(name): " + q(value)) }
        lines += YAMLText.comment("Streamed answers (server-sent events) need RESPONSE_STREAM; the runtime is told so by "
            + "LAMBDA_LLM_INVOKE_MODE above.", indent: 6)
        lines += [
            "      FunctionUrlConfig:",
            "        AuthType: !Ref \(Self.authParameter)",
            "        InvokeMode: RESPONSE_STREAM",
        ]
        if source == .image {
            lines += [
                "    Metadata:",
                "      Dockerfile: Dockerfile",
                "      DockerContext: .",
                "      DockerTag: " + q(dockerTag),
            ]
        }
        lines += [
            "",
            "Outputs:",
            "  FunctionUrl:",
            "    Description: " + q("The function URL; the OpenAI-compatible API is under v1/ (e.g. v1/chat/completions)"),
            "    Value: !GetAtt \(Self.urlLogicalID).FunctionUrl",
            "  FunctionArn:",
            "    Description: " + q("The function's ARN"),
            "    Value: !GetAtt \(Self.functionLogicalID).Arn",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
