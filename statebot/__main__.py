import sys

from statebot.cli import main

sys.exit(main())
