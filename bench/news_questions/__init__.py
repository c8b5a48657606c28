"""The project's own news question set over Reuters-21578 (README.md here)."""
