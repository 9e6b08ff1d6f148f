"""`python -m remote_gym` runs the remote-gym command line."""

import sys

from remote_gym.cli.main import main

sys.exit(main())
