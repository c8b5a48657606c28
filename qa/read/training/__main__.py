"""python -m qa.read.training: the training command (also `qa train-reader`)."""

import sys

from qa.read.training.command import main

sys.exit(main())
