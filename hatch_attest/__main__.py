import sys

from hatch_attest._cli import main

if __name__ == "__main__":
    sys.exit(main())
