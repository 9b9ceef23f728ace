"""What the sandbox saw: the request journal, log lines and Prometheus metrics."""
