"""The chat UI: `python app.py [--index DIR] [--articles DIR] [--host H] [--port P] [--reader NAME]`.

The app itself is qa/ui/app.py (also `qa chat`); this file starts it from a source checkout.
"""

import sys

from qa.ui.app import main

if __name__ == "__main__":
    sys.exit(main())
