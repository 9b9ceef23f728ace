"""Contract tests for implementations of an OpenAPI document, on Schemathesis."""
