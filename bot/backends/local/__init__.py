"""The local backend: pinned model files, their assembly, the llama.cpp server, its supervisor."""
