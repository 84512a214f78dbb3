/// Generation: sampling, chat templates, stop rules and streaming on top of the engine
/// and tokenizer. Knows nothing about HTTP, Lambda or the command line.
