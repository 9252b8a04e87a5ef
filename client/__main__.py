"""Allow ``python -m client`` as well as the ``ledgerctl`` console script."""

import sys

from client.cli import main

if __name__ == "__main__":
    sys.exit(main())
