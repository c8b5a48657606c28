"""python -m qa.training: the training command (also `qa train-reader`)."""

import sys

from qa.training.command import main

sys.exit(main())
