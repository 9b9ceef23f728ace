"""Contract tests for implementations of an OpenAPI document, on Schemathesis.

``contracts run`` on the command line; ``run(RunOptions(...))`` from Python; and
``contract_suite(...)`` for pytest.
"""

from typing import Any

from contracts.errors import UsageError
from contracts.report import Report
from contracts.runner import RunOptions, run


def __getattr__(name: str) -> Any:  # pytest is imported only by those who use the suite
    if name == "contract_suite":
        from contracts.suite import contract_suite

        return contract_suite
    raise AttributeError(name)


__all__ = ["Report", "RunOptions", "UsageError", "contract_suite", "run"]
