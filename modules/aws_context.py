"""Account, region and partition of the stack, for building ARNs of resources not yet created."""

from __future__ import annotations

import dataclasses

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from constructs import Construct


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclasses.dataclass(frozen=True)
class AwsContext:
    account_id: str
    region: str
    partition: str

    @classmethod
    def create(cls, scope: Construct, region: str) -> AwsContext:
        identity = DataAwsCallerIdentity(scope, "caller-identity")
        return cls(account_id=identity.account_id, region=region, partition=partition_of(region))

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    @property
    def root_principal(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def service_principal(self, service: str) -> str:
        return f"{service}.amazonaws.com"
