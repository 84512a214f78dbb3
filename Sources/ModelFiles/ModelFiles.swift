/// ModelFiles: reads model files from strangers (GGUF today; safetensors later),
/// memory-mapped and zero-copy, validating every size and offset before use.
/// Knows nothing about how a model computes, tokenizes or serves.
