"""Question -> ranked hits: follow-up rewriting, dense + keyword search, fusion, folding."""
