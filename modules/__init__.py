"""CDKTF constructs of the payment-webhook pipeline; `pipeline_stack` composes them.

Importing this package installs the fast-path loader of the AWS provider bindings before any
construct imports them (see `modules/provider_loader.py`; `CDKTF_AWS_PROVIDER_IMPORT=eager` forces
the package's own eager import).
"""

from modules import provider_loader

provider_loader.install()
