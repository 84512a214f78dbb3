"""`lambda-llm package` end to end, judged by independent tools: cfn-lint on the SAM
templates, Python's zipfile on function.zip, PyYAML on the template's strings, readelf
(binutils) on the glibc versions the binary needs.

The binary packaged is LAMBDA_LLM_BIN itself. A default `swift build` links the Swift
runtime dynamically, which Lambda lacks, and a build on this machine's glibc (2.36) may
bind symbols newer than Amazon Linux 2023's 2.34. So the happy-path tests pass
--allow-dynamic-stdlib / --skip-glibc-check where readelf says the binary needs them:
what they check (layout, template, zip, sizing) does not depend on how the binary
links, and a --static-swift-stdlib build takes many minutes. Two tests check that
without those flags such a binary is refused, and that the glibc report agrees with
readelf.
"""
import json
import math
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import missing

MIB = 1 << 20


# ---------------------------------------------------------------- helpers

def run_package(binary, *args, check=True):
    result = subprocess.run([str(binary), "package", *map(str, args)], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"package failed:\n{result.stdout}\n{result.stderr}"
    return result


def needed_libraries(binary):
    """DT_NEEDED by readelf, or None when binutils is missing."""
    if shutil.which("readelf") is None:
        return None
    out = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def glibc_versions(binary):
    """GLIBC_x.y versions in .gnu.version_r by readelf, as tuples; None when binutils is missing."""
    if shutil.which("readelf") is None:
        return None
    out = subprocess.run(["readelf", "-V", "-W", str(binary)], capture_output=True, text=True, check=True).stdout
    needs = out.split(".gnu.version_r", 1)[-1] if ".gnu.version_r" in out else ""
    return {tuple(int(x) for x in v.split(".")) for v in re.findall(r"Name: GLIBC_([0-9.]+)", needs)}


def binary_args(binary):
    """The flags this machine's build of the binary needs to be packaged at all: it may link
    the Swift runtime dynamically, and a build on a glibc newer than 2.34 may need newer
    symbols. Those refusals have their own tests; the others check layout and numbers."""
    libs = needed_libraries(binary)
    versions = glibc_versions(binary)
    args = []
    if libs is None or any(l.startswith("libswift") for l in libs):
        args.append("--allow-dynamic-stdlib")
    if versions is None or (versions and max(versions) > (2, 34)):
        args.append("--skip-glibc-check")
    return args


@pytest.fixture(scope="session")
def cfn_lint():
    path = Path(sys.executable).parent / "cfn-lint"
    if not path.is_file():
        found = shutil.which("cfn-lint")
        if found is None:
            missing(f"cfn-lint next to {sys.executable}")
        path = Path(found)
    return path


def lint(cfn_lint, *templates):
    # --include-checks I adds informational rules; any finding (error, warning or info) fails.
    result = subprocess.run([str(cfn_lint), "--include-checks", "I", "--", *map(str, templates)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip() == "", f"cfn-lint:\n{result.stdout}\n{result.stderr}"


class CfnLoader(yaml.SafeLoader):
    """Reads !Ref / !GetAtt as {"Ref": ...} / {"GetAtt": ...}."""


CfnLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: {suffix: loader.construct_scalar(node)})


def load_template(path):
    return yaml.load(Path(path).read_text(), Loader=CfnLoader)


def function_properties(template):
    return template["Resources"]["LambdaLLMFunction"]["Properties"]


def copy_sources(dockerfile):
    sources = []
    for line in Path(dockerfile).read_text().splitlines():
        if line.startswith("COPY "):
            args = [a for a in line.split()[1:] if not a.startswith("--")]
            sources += args[:-1]
    return sources


def study_results(model_path, verdict):
    """A results.json shaped as the Swift StudyResults encodes (nil optionals omitted)."""
    size = Path(model_path).stat().st_size
    base = {
        "memoryMargin": "peak RSS x 1.10 + 64 MB, rounded up to a whole MB, at least 128 MB",
        "scalingModel": "test", "fitsTimeout": True, "downloadSeconds": 1.0, "coldStartS3Seconds": 1.5,
        "coldStartImageSeconds": 0.2, "initWithinLimit": True, "containerImageBytes": size + 100 * MIB,
        "fitsContainerImage": True, "fitsZip": True, "deployable": True, "fitsEphemeralStorage": True,
        "summary": "fits",
    }
    base.update(verdict)
    run = {"threads": 2, "loadSeconds": 0.2, "timeToFirstTokenSeconds": 0.1, "prefillTokensPerSecond": 500.0,
           "decodeTokensPerSecond": 50.0, "decodeTokensPerSecondSpread": [49.0, 51.0], "requestSeconds": 2.0,
           "peakRSSBytes": 160 * MIB}
    variant = lambda t, b, v: {"type": t, "studyName": t.upper(), "file": f"study-out/models/abc-{t}.gguf",
                               "fileBytes": b, "runs": [run], "verdict": v}
    return {
        "schemaVersion": 1, "createdAt": "2026-11-27T00:00:00Z", "conclusion": "",
        "machine": {"cpuModel": "test", "cores": 2, "memoryBytes": 1 << 34, "operatingSystem": "Linux",
                    "architecture": "x86_64", "kernelISA": "avx2"},
        "settings": {"types": ["int8", "int4-asym"], "threadCounts": [1, 2], "promptTokens": 128, "genTokens": 128,
                     "repetitions": 3, "evalTokens": 0, "s3MegabytesPerSecond": 100},
        "source": {"path": str(model_path), "bytes": size, "format": "GGUF", "synthetic": False, "notes": []},
        "variants": [variant("int8", size + 12345, dict(base, memoryMB=999, requestSecondsAtMemory=5.0)),
                     variant("int4-asym", size, base)],
    }


# ---------------------------------------------------------------- image

def test_image_package_layout_template_and_lint(lambda_llm_bin, smollm2_path, tmp_path, cfn_lint):
    out = tmp_path / "image"
    result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", out, "--binary", lambda_llm_bin,
                         *binary_args(lambda_llm_bin))
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == {"Dockerfile", ".dockerignore", "bootstrap", "template.yaml", "README.md",
                     f"model/{smollm2_path.name}"}

    # Every COPY source is in the build context, and .dockerignore keeps it.
    sources = copy_sources(out / "Dockerfile")
    assert sorted(sources) == sorted(["bootstrap", f"model/{smollm2_path.name}"])
    for source in sources:
        assert (out / source).is_file(), source
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM --platform=linux/amd64 public.ecr.aws/lambda/provided:al2023\n" in dockerfile
    assert "COPY bootstrap ${LAMBDA_RUNTIME_DIR}/bootstrap\n" in dockerfile
    assert f"LAMBDA_LLM_MODEL=/opt/model/{smollm2_path.name}" in dockerfile
    assert (out / "bootstrap").stat().st_mode & 0o111 == 0o111
    assert (out / "bootstrap").read_bytes() == Path(lambda_llm_bin).read_bytes()
    packaged = out / "model" / smollm2_path.name
    assert packaged.stat().st_size == smollm2_path.stat().st_size
    assert packaged.stat().st_mode & 0o444 == 0o444

    template = load_template(out / "template.yaml")
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    props = function_properties(template)
    assert props["PackageType"] == "Image"
    assert props["Architectures"] == ["x86_64"]
    assert props["EphemeralStorage"] == {"Size": 512}
    assert props["Timeout"] == 300
    # Estimate: (file + F16 KV cache at 4096 positions) x 1.10 + 64 MB; SmolLM2 has 30 layers x 3 KV heads x 64 x 2.
    kv = 30 * 4096 * 3 * 64 * 2 * 2
    peak = smollm2_path.stat().st_size + kv
    assert props["MemorySize"] == math.ceil((peak + math.ceil(peak / 10)) / MIB) + 64
    assert props["Environment"]["Variables"]["LAMBDA_LLM_MODEL"] == f"/opt/model/{smollm2_path.name}"
    assert props["Environment"]["Variables"]["LAMBDA_LLM_INVOKE_MODE"] == "RESPONSE_STREAM"
    assert props["FunctionUrlConfig"] == {"AuthType": {"Ref": "FunctionUrlAuthType"}, "InvokeMode": "RESPONSE_STREAM"}
    assert template["Parameters"]["FunctionUrlAuthType"]["AllowedValues"] == ["AWS_IAM", "NONE"]
    assert template["Parameters"]["FunctionUrlAuthType"]["Default"] == "AWS_IAM"
    metadata = template["Resources"]["LambdaLLMFunction"]["Metadata"]
    assert metadata["Dockerfile"] == "Dockerfile" and metadata["DockerContext"] == "."
    assert "Policies" not in props
    assert set(template["Outputs"]) == {"FunctionUrl", "FunctionArn"}
    text = (out / "template.yaml").read_text()
    assert "estimate" in text and "lambda-llm study --model" in text
    lint(cfn_lint, out / "template.yaml")

    assert "glibc: " in result.stdout and "MemorySize" not in result.stderr
    assert "memory " in result.stdout and "estimate" in result.stdout


# ---------------------------------------------------------------- s3

ODD_KEY = 'models/odd "name" #1: x*?.gguf'


def test_s3_package_zip_policy_quoting_and_lint(lambda_llm_bin, smollm2_path, tmp_path, cfn_lint):
    out = tmp_path / "s3"
    uri = f"s3://my-model-bucket/{ODD_KEY}"
    run_package(lambda_llm_bin, "--model", smollm2_path, "--out", out, "--source", "s3", "--s3-uri", uri,
                "--binary", lambda_llm_bin, "--name", "llm-fn_1", *binary_args(lambda_llm_bin))
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == {"zip/bootstrap", "function.zip", "template.yaml", "README.md"}

    with zipfile.ZipFile(out / "function.zip") as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["bootstrap"]
        info = archive.getinfo("bootstrap")
        assert info.create_system == 3  # Unix: the mode below is meaningful
        mode = info.external_attr >> 16
        assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o755
        assert archive.read("bootstrap") == Path(lambda_llm_bin).read_bytes()
    assert (out / "zip" / "bootstrap").stat().st_mode & 0o111 == 0o111

    template = load_template(out / "template.yaml")
    props = function_properties(template)
    assert props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert props["CodeUri"] == "zip/"
    assert props["FunctionName"] == "llm-fn_1"
    assert props["Environment"]["Variables"]["LAMBDA_LLM_MODEL"] == uri
    escaped = ODD_KEY.replace("*", "${*}").replace("?", "${?}")
    assert props["Policies"] == [{
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": [f"arn:aws:s3:::my-model-bucket/{escaped}",
                         f"arn:aws:s3:::my-model-bucket/{escaped}.sha256"],
        }],
    }]
    # /tmp: file x 1.01, rounded up to a MB, at least 512.
    size = smollm2_path.stat().st_size
    assert props["EphemeralStorage"]["Size"] == max(512, math.ceil((size + math.ceil(size / 100)) / MIB))
    lint(cfn_lint, out / "template.yaml")

    readme = (out / "README.md").read_text()
    assert "--metadata sha256=$SHA" in readme and "aws s3 cp" in readme


def test_readme_python_example_compiles(lambda_llm_bin, smollm2_path, tmp_path):
    out = tmp_path / "readme"
    run_package(lambda_llm_bin, "--model", smollm2_path, "--out", out, "--binary", lambda_llm_bin,
                *binary_args(lambda_llm_bin))
    readme = (out / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) == 1
    compile(blocks[0], "README.md", "exec")


# ---------------------------------------------------------------- study

def test_study_verdict_sets_memory_storage_and_timeout(lambda_llm_bin, smollm2_path, tmp_path, cfn_lint):
    study = tmp_path / "results.json"
    study.write_text(json.dumps(study_results(smollm2_path, {
        "memoryMB": 217, "ephemeralStorageMB": 512, "requestSecondsAtMemory": 25.1,
        "coldStartS3Seconds": 1.5, "coldStartImageSeconds": 0.2})))
    templates = []
    for source, extra, timeout in [("s3", ["--s3-uri", "s3://b-1/m.gguf"], math.ceil(3 * 25.1 + 1.5)),
                                   ("image", [], math.ceil(3 * 25.1 + 0.2))]:
        out = tmp_path / source
        result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", out, "--source", source, *extra,
                             "--study", study, "--binary", lambda_llm_bin, *binary_args(lambda_llm_bin))
        props = function_properties(load_template(out / "template.yaml"))
        assert props["MemorySize"] == 217
        assert props["Timeout"] == timeout
        assert props["EphemeralStorage"]["Size"] == 512
        assert "variant int4-asym" in (out / "template.yaml").read_text()
        assert "int4-asym" in result.stdout
        templates.append(out / "template.yaml")
    lint(cfn_lint, *templates)

    # --memory / --timeout override the verdict.
    out = tmp_path / "override"
    run_package(lambda_llm_bin, "--model", smollm2_path, "--out", out, "--study", study, "--memory", 2048,
                "--timeout", 120, "--binary", lambda_llm_bin, *binary_args(lambda_llm_bin))
    props = function_properties(load_template(out / "template.yaml"))
    assert props["MemorySize"] == 2048 and props["Timeout"] == 120


def test_study_without_a_matching_variant_is_refused(lambda_llm_bin, smollm2_path, tmp_path):
    data = study_results(smollm2_path, {"memoryMB": 217, "requestSecondsAtMemory": 25.1})
    data["variants"] = data["variants"][:1]  # only the int8 one, of another size
    study = tmp_path / "results.json"
    study.write_text(json.dumps(data))
    result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", tmp_path / "o", "--study", study,
                         "--binary", lambda_llm_bin, *binary_args(lambda_llm_bin), check=False)
    assert result.returncode != 0
    assert "no variant of" in result.stderr and "int8" in result.stderr
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- refusals

def test_refuses_a_non_empty_out_dir_unless_forced(lambda_llm_bin, smollm2_path, tmp_path):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    args = ["--model", smollm2_path, "--out", out, "--binary", lambda_llm_bin, *binary_args(lambda_llm_bin)]
    result = run_package(lambda_llm_bin, *args, check=False)
    assert result.returncode != 0 and "not empty" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    run_package(lambda_llm_bin, *args, "--force")
    assert (out / "keep.txt").read_text() == "mine"
    assert (out / "template.yaml").is_file()


def test_refuses_a_binary_for_the_wrong_architecture(lambda_llm_bin, smollm2_path, tmp_path):
    # A copy claiming to be arm64 (e_machine = EM_AARCH64 = 183 at offset 18), packaged as x86_64.
    patched = tmp_path / "arm64-lambda-llm"
    data = bytearray(Path(lambda_llm_bin).read_bytes())
    assert data[:4] == b"\x7fELF"
    data[18:20] = (183).to_bytes(2, "little")
    patched.write_bytes(bytes(data))
    patched.chmod(0o755)
    result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", tmp_path / "a", "--arch", "x86_64",
                         "--binary", patched, *binary_args(lambda_llm_bin), check=False)
    assert result.returncode != 0
    assert "built for arm64, but --arch is x86_64" in result.stderr
    # The real binary asked to serve arm64: refused with how to build for arm64.
    result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", tmp_path / "b", "--arch", "arm64",
                         "--binary", lambda_llm_bin, *binary_args(lambda_llm_bin), check=False)
    assert result.returncode != 0 and "arm64 Linux machine" in result.stderr
    # Not an ELF at all.
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", tmp_path / "c", "--binary", script,
                         check=False)
    assert result.returncode != 0 and "not an ELF" in result.stderr
    assert not any((tmp_path / d).exists() for d in "abc")


def test_refuses_a_dynamic_swift_runtime_without_the_flag(lambda_llm_bin, smollm2_path, tmp_path):
    libs = needed_libraries(lambda_llm_bin)
    if libs is None:
        pytest.skip("readelf (binutils) not installed: cannot tell how the binary links")
    others = [a for a in binary_args(lambda_llm_bin) if a != "--allow-dynamic-stdlib"]
    result = run_package(lambda_llm_bin, "--model", smollm2_path, "--out", tmp_path / "o", "--binary", lambda_llm_bin,
                         *others, check=False)
    if any(l.startswith("libswiftCore") for l in libs):
        assert result.returncode != 0
        assert "--static-swift-stdlib" in result.stderr and "libswiftCore.so" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert "Swift runtime linked in" in result.stdout or "statically linked" in result.stdout


def test_glibc_report_matches_readelf(lambda_llm_bin, smollm2_path, tmp_path):
    versions = glibc_versions(lambda_llm_bin)
    if versions is None:
        pytest.skip("readelf (binutils) not installed")
    args = ["--model", smollm2_path, "--binary", lambda_llm_bin]
    result = run_package(lambda_llm_bin, *args, "--out", tmp_path / "o", *binary_args(lambda_llm_bin))
    line = next(l for l in result.stdout.splitlines() if l.startswith("glibc: "))
    if not versions:
        assert "statically linked" in line or "no versioned glibc" in line
        return
    highest = max(versions)
    assert f"needs up to GLIBC_{'.'.join(map(str, highest))}" in line
    if highest <= (2, 34):
        assert "OK for Amazon Linux 2023" in line
    else:
        # Too new: listed with the symbols that need it, and refused without --skip-glibc-check.
        assert "newer than Amazon Linux 2023" in line
        allow = [a for a in binary_args(lambda_llm_bin) if a != "--skip-glibc-check"]
        refused = run_package(lambda_llm_bin, *args, "--out", tmp_path / "r", *allow, check=False)
        assert refused.returncode != 0 and "--skip-glibc-check" in refused.stderr
        assert not (tmp_path / "r").exists()
