/// Tokenizer: text <-> token ids for SentencePiece (llama) and byte-level BPE (gpt2)
/// vocabularies read from GGUF metadata. Knows nothing about weights or generation.
