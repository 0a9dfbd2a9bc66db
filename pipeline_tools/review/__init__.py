"""Reviews of what is about to be deployed: the plan review, checkov with its allowlist, the IAM review."""
