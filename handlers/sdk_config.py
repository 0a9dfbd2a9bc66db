"""botocore settings shared by the handlers' hot-path clients."""

from __future__ import annotations

from botocore.config import Config

# Client-side parameter validation re-checks requests this code builds and the service validates
# anyway: a bad request fails the same way (an error, answered 5xx, nothing stored), one round
# trip later. Skipping it takes a quarter off the warm validator's CPU per event (docs/PERFORMANCE.md).
SDK_CONFIG = Config(parameter_validation=False)
