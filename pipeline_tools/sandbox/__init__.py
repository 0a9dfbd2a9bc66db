"""The local sandbox: moto on loopback, Terraform apply, the handlers in-process behind a gateway and a stream poller."""
