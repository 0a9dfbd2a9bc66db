"""The handler fixtures (moto table, secrets, queues) for the red-team reproductions."""

from tests.handlers.conftest import (  # noqa: F401 - fixtures re-exported for this directory
    aws,
    aws_environment,
    events_table,
    queues,
    router,
    signing_secret,
    validator,
)
from tests.handlers.test_validator_mollie_classic import door  # noqa: F401 - a mollie-classic door (moto + stub)
