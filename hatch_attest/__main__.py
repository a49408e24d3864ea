import sys

from hatch_attest.cli import main

if __name__ == "__main__":
    sys.exit(main())
