"""Put on PYTHONPATH by the suite benchmark: every Python process that loads the AWS provider
bindings appends one line (pid and command) to $BENCH_PROVIDER_IMPORT_LOG."""

import os
import sys

_LOG = os.environ.get("BENCH_PROVIDER_IMPORT_LOG")

if _LOG:

    def _probe(event: str, args: tuple) -> None:
        if event == "import" and args[0] == "cdktf_cdktf_provider_aws":
            with open(_LOG, "a", encoding="utf-8") as log:
                log.write(f"{os.getpid()} {' '.join(sys.argv)[:160]}\n")

    sys.addaudithook(_probe)
