"""Operator tools around the synthesized stacks: Terraform set-up for the local mirror."""
