"""`webhook-pipeline-<env>`: the CloudWatch dashboard; its widgets are in `dashboard_body.py`."""

from __future__ import annotations

import json
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from modules.dashboard_body import dashboard_body


class PipelineDashboard(Construct):
    """One `aws_cloudwatch_dashboard` named `webhook-pipeline-<env>`."""

    def __init__(self, scope: Construct, id_: str, *, environment: str, **body: Any) -> None:
        super().__init__(scope, id_)
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=f"webhook-pipeline-{environment}",
            dashboard_body=json.dumps(dashboard_body(**body)),
        )
