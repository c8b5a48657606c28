"""Batch evaluation: question files, metrics, the resumable run and its report."""
