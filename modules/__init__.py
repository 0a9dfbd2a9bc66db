"""CDKTF constructs of the payment-webhook pipeline; `pipeline_stack` composes them."""
