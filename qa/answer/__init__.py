"""Reader spans -> the answer the user gets: merging, no-answer decision, recency."""
