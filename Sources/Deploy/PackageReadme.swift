import Foundation
import LambdaLimits
import ModelFiles

/// README.md of the output directory: how to deploy (SAM, or Docker + ECR for an image;
/// the checksummed S3 upload for a zip), how to call the function URL (awscurl with SigV4,
/// the OpenAI client), the sizes chosen and why, and the binary checks.
public struct PackageReadme: Sendable {
    public var source: DeploymentSource
    public var architecture: LambdaArchitecture
    public var modelFileName: String
    public var modelPath: String
    public var modelBytes: Int64
    public var s3: S3ModelLocation?
    public var sizing: DeploymentSizing
    public var binary: BinaryInspection
    public var zipBytes: Int64?
    /// The `model` field clients send: what the runtime reports as its model's name.
    public var servedModelName: String

    public init(source: DeploymentSource, architecture: LambdaArchitecture, modelFileName: String, modelPath: String,
                modelBytes: Int64, s3: S3ModelLocation?, sizing: DeploymentSizing, binary: BinaryInspection,
                zipBytes: Int64?, servedModelName: String) {
        self.source = source
        self.architecture = architecture
        self.modelFileName = modelFileName
        self.modelPath = modelPath
        self.modelBytes = modelBytes
        self.s3 = s3
        self.sizing = sizing
        self.binary = binary
        self.zipBytes = zipBytes
        self.servedModelName = servedModelName
    }

    public func render(limits: LambdaLimits = .current) -> String {
        var out: [String] = []
        let packaging = source == .image ? "a container image" : "a zip on `\(limits.providedAL2023Runtime)` loading the model from S3"
        out += [
            "# LambdaLLM: \(modelFileName) on AWS Lambda",
            "",
            "Written by `lambda-llm package`: \(packaging), \(architecture.rawValue), with a streaming function URL "
                + "(`InvokeMode: RESPONSE_STREAM`) serving an OpenAI-compatible API under `v1/`.",
            "",
            "## Files",
            "",
        ]
        switch source {
        case .image:
            out += [
                "- `Dockerfile`: `\(limits.providedAL2023BaseImage)`, the model baked in under `/opt/model`, "
                    + "the binary as `${LAMBDA_RUNTIME_DIR}/bootstrap`.",
                "- `bootstrap`: the lambda-llm binary; `model/\(modelFileName)`: the model (a hard link when possible).",
                "- `template.yaml`: the SAM template; `.dockerignore`: keeps the build context to those two.",
            ]
        case .s3:
            out += [
                "- `zip/bootstrap`: the lambda-llm binary, the code SAM deploys (`CodeUri: zip/`).",
                "- `function.zip`: the same as a zip, for `aws lambda` commands without SAM.",
                "- `template.yaml`: the SAM template. The model is not here: it goes to S3 (step 1).",
            ]
        }
        out += ["", "## Deploy", ""]
        out += source == .image ? imageSteps() : s3Steps(limits: limits)
        out += callSection()
        out += sizingSection(limits: limits)
        out += binarySection()
        return out.joined(separator: "\n") + "\n"
    }

    private func imageSteps() -> [String] {
        let platform = DockerfileText(architecture: architecture, modelFileName: modelFileName).platform
        return [
            "With the AWS SAM CLI and Docker (SAM builds the image, creates an ECR repository and pushes to it):",
            "",
            "```sh",
            "sam build",
            "sam deploy --guided --resolve-image-repos --capabilities CAPABILITY_IAM",
            "```",
            "",
            "Or build and push the image yourself, then point SAM at it:",
            "",
            "```sh",
            "REPO=$(aws ecr create-repository --repository-name lambda-llm --query repository.repositoryUri --output text)",
            "aws ecr get-login-password | docker login --username AWS --password-stdin \"${REPO%%/*}\"",
            "docker build --platform \(platform) --provenance=false -t \"$REPO:latest\" .",
            "docker push \"$REPO:latest\"",
            "sam deploy --guided --image-repository \"$REPO\" --capabilities CAPABILITY_IAM",
            "```",
            "",
            "`--provenance=false` keeps the image a single-platform manifest, which Lambda requires. The image holds "
                + "the model, so it is about \(Format.megabytes(modelBytes + binary.bytes)) plus the base image "
                + "(Lambda's limit: 10 GB).",
            "",
        ]
    }

    private func s3Steps(limits: LambdaLimits) -> [String] {
        guard let s3 else { return [] }
        let model = DeploymentSizer.shellQuoted(modelPath)
        let uri = DeploymentSizer.shellQuoted(s3.uri)
        let sidecar = DeploymentSizer.shellQuoted(s3.uri + ".sha256")
        var lines = [
            "1. Upload the model with its SHA-256 in the object metadata; the runtime verifies the download against it "
                + "(or against a `KEY.sha256` sidecar object, if you prefer to upload one):",
            "",
            "   ```sh",
            "   SHA=$(sha256sum \(model) | cut -d' ' -f1)",
            "   aws s3 cp \(model) \(uri) --metadata sha256=$SHA",
            "   # or, as a sidecar: echo \"$SHA\" | aws s3 cp - \(sidecar)",
            "   ```",
            "",
            "2. Deploy with the AWS SAM CLI (it zips `zip/` and uploads it through S3, so no `sam build` is needed):",
            "",
            "   ```sh",
            "   sam deploy --guided --capabilities CAPABILITY_IAM",
            "   ```",
            "",
            "   The function may only `s3:GetObject` on `\(s3.objectARN)` and `\(s3.sidecarARN)`. "
                + "Deploy it in the bucket's region, or expect cross-region download times.",
            "",
        ]
        if let zipBytes {
            let over = zipBytes > limits.zipUploadBytes
            lines += [
                "   Without SAM, `function.zip` (\(Format.megabytes(zipBytes))) is the function code. "
                    + (over
                        ? "It is over the \(Format.megabytes(limits.zipUploadBytes)) direct-upload limit: upload it to S3 "
                            + "and use `aws lambda create-function ... --code S3Bucket=BUCKET,S3Key=function.zip`."
                        : "It fits the \(Format.megabytes(limits.zipUploadBytes)) direct-upload limit "
                            + "(`--zip-file fileb://function.zip`).")
                    + " Unzipped it must stay within \(Format.megabytes(limits.zipUnzippedBytes)).",
                "",
            ]
        }
        return lines
    }

    private func callSection() -> [String] {
        let name = JSONString.quoted(servedModelName)
        let json = "{\"model\":\(name),\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"stream\":true}"
        // Inside single quotes in the shell line below.
        let body = json.replacingOccurrences(of: "'", with: "'\\''")
        return [
            "## Call it",
            "",
            "`sam deploy` prints the `FunctionUrl` output. With `AuthType: AWS_IAM` (the default) every request is "
                + "signed with SigV4 for the service `lambda`; the caller's IAM policy needs both "
                + "`lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` on the function (function URLs created since "
                + "October 2025 check both).",
            "",
            "```sh",
            "URL=https://xxxx.lambda-url.REGION.on.aws/   # the FunctionUrl output",
            "pip install awscurl",
            "awscurl --service lambda --region REGION -X POST -H 'Content-Type: application/json' \\",
            "  -d '\(body)' \"${URL}v1/chat/completions\"",
            "```",
            "",
            "With the OpenAI Python client, signing each request with botocore:",
            "",
            "```python",
            "import boto3, httpx",
            "from botocore.auth import SigV4Auth",
            "from botocore.awsrequest import AWSRequest",
            "from openai import OpenAI",
            "",
            "URL = \"https://xxxx.lambda-url.REGION.on.aws/\"",
            "REGION = \"REGION\"",
            "",
            "class SigV4(httpx.Auth):",
            "    requires_request_body = True",
            "",
            "    def auth_flow(self, request):",
            "        signed = AWSRequest(method=request.method, url=str(request.url), data=request.content,",
            "                            headers={\"Content-Type\": request.headers.get(\"Content-Type\", \"application/json\")})",
            "        SigV4Auth(boto3.Session().get_credentials(), \"lambda\", REGION).add_auth(signed)",
            "        request.headers.update(dict(signed.headers))",
            "        yield request",
            "",
            "client = OpenAI(base_url=URL + \"v1\", api_key=\"unused\", http_client=httpx.Client(auth=SigV4()))",
            "stream = client.chat.completions.create(model=\(name), stream=True,",
            "                                        messages=[{\"role\": \"user\", \"content\": \"Hello!\"}])",
            "for chunk in stream:",
            "    print(chunk.choices[0].delta.content or \"\", end=\"\", flush=True)",
            "```",
            "",
            "With `FunctionUrlAuthType=NONE` the URL is public (SAM adds the two public permissions): anyone who "
                + "finds it runs the model on your bill. "
                + "If you choose it, also set `LAMBDA_LLM_API_KEY` in the function's environment so the runtime "
                + "requires `Authorization: Bearer KEY`, and pass that key as the OpenAI client's `api_key`.",
            "",
        ]
    }

    private func sizingSection(limits: LambdaLimits) -> [String] {
        var lines = [
            "## Sizes",
            "",
            "Chosen from \(sizing.basis).",
            "",
            "| setting | value | why |",
            "|---|---|---|",
            "| MemorySize | \(Format.grouped(sizing.memoryMB.value)) MB | \(cell(sizing.memoryMB.reason)) |",
            "| EphemeralStorage | \(Format.grouped(sizing.ephemeralStorageMB.value)) MB | \(cell(sizing.ephemeralStorageMB.reason)) |",
            "| Timeout | \(sizing.timeoutSeconds.value) s | \(cell(sizing.timeoutSeconds.reason)) |",
            "",
            "CPU follows memory: \(Format.grouped(sizing.memoryMB.value)) MB gives "
                + String(format: "%.2f", limits.vcpuShare(memoryMB: sizing.memoryMB.value))
                + " vCPU of time (1 vCPU per \(Format.grouped(limits.mbPerVCPU)) MB). More memory answers faster, "
                + "up to 10,240 MB (about 6 vCPUs); change `MemorySize` in template.yaml and redeploy.",
            "",
        ]
        if sizing.isEstimate {
            lines += [
                "These are estimates. Measure the real peak memory and request time with "
                    + "`\(DeploymentSizer.studyCommand(modelPath: modelPath))`, then package again with "
                    + "`--study study-out/results.json`.",
                "",
            ]
        }
        for note in sizing.notes { lines += ["- Note: \(note).", ""] }
        return lines
    }

    private func binarySection() -> [String] {
        var lines = [
            "## Binary checks",
            "",
            "- Architecture: \(binary.elf.machine), \(Format.megabytes(binary.bytes)).",
            "- Linking: \(binary.linkageSummary).",
            "- \(binary.glibc.summary).",
        ]
        if binary.libstdcxx.isNeeded { lines.append("- \(binary.libstdcxx.summary).") }
        return lines + [""]
    }

    /// A markdown table cell: pipes escaped, one line.
    private func cell(_ text: String) -> String {
        YAMLText.commentText(text).replacingOccurrences(of: "|", with: "\\|")
    }
}
