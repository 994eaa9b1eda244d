"""``python -m sklearn_impression.cli``: the ``sklearn-impression`` command."""

import sys

from ._main import main

if __name__ == "__main__":
    sys.exit(main())
