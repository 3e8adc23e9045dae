"""Per-update context: who is writing, in which language, and what is still running."""
