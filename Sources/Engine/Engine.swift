/// Engine: the Llama-family forward pass over mmap'd (quantized) weights and its KV cache.
/// Knows nothing about text, tokenizers, HTTP or Lambda.
