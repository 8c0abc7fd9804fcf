"""Optional integrations of bpdetect with other tools (each imports its tool only when that module is imported)."""
