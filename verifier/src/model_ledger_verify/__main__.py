"""Allow ``python -m model_ledger_verify`` as well as the ``ledgerctl`` console script."""

import sys

from model_ledger_verify.client.cli import main

if __name__ == "__main__":
    sys.exit(main())
