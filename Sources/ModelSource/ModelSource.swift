/// ModelSource: where a model comes from. A local path (a container image) is passed
/// through; s3://bucket/key is fetched into a local directory with SigV4-signed,
/// parallel, resumable ranged GETs and checked against a SHA-256 from the object's
/// metadata or a sidecar, so that only verified files ever appear under their final
/// name. Reads its settings from the AWS SDKs' environment variables.
///
/// Knows nothing about GGUF, inference or the Lambda Runtime API: the runtime asks
/// for a path and gets one (or an error that says what to fix).
