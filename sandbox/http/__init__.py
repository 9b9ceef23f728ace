"""The request and response vocabulary of the served spec: routing, validation, negotiation,
preferences, responses and error bodies shaped by the spec."""
