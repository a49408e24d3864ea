"""``pypi-attestations sign``, unchanged, but trusting a local Sigstore instance.

The baseline of ``sign_throughput.py``. pypi-attestations 0.0.30's CLI builds its
trust config only with ``ClientTrustConfig.production()`` (or ``.staging()``,
both from the public TUF repositories) and has no option for another one. This
runs its own ``pypi_attestations._cli.main()`` with ``production()`` returning the
trust config file given first; everything else (ambient identity detection, one
``signer(cache=True)`` for the run, the sequential loop, the file writes) is the
installed code. It imports nothing else, so its start-up cost is the CLI's own.

    python benchmarks/_pypi_attestations_local.py TRUST_CONFIG FILE...
"""

from __future__ import annotations

import sys
from pathlib import Path

from pypi_attestations import _cli
from sigstore.models import ClientTrustConfig


def main(trust_config: Path, files: list[str]) -> None:
    """Run ``pypi-attestations sign FILES`` against ``trust_config``."""
    raw = trust_config.read_text(encoding="utf-8")

    def local(cls: type[ClientTrustConfig], offline: bool = False) -> ClientTrustConfig:
        return cls.from_json(raw)

    ClientTrustConfig.production = classmethod(local)  # type: ignore[method-assign,assignment]
    sys.argv = ["pypi-attestations", "sign", *files]
    _cli.main()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(f"usage: {sys.argv[0]} TRUST_CONFIG FILE...")
    main(Path(sys.argv[1]), sys.argv[2:])
