"""``python -m scaling.cli``: the same as the ``scaling`` script."""

import sys

from scaling.cli import main

sys.exit(main())
