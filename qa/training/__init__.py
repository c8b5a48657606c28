"""Training the bundled extractive reader on SQuAD (qa train-reader)."""
