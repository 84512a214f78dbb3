/// Convert: turns a Hugging Face checkpoint (safetensors + config.json + tokenizer)
/// or a GGUF into a llama.cpp-compatible GGUF at the requested precision, streaming
/// tensor by tensor. Knows nothing about running models, HTTP or Lambda.
