"""The consumer package (consumer/) is tested from its source tree: `consumer/src` and the example on
sys.path, as an installed package and the Lambda zip would have them."""

from __future__ import annotations

import sys
from pathlib import Path

CONSUMER_DIR = Path(__file__).resolve().parents[2] / "consumer"
for folder in (CONSUMER_DIR / "src", CONSUMER_DIR / "example"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
