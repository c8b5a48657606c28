"""Ingestion: article files -> cleaned Articles -> Passages."""
