"""Planted-violation corpus for `contracts run`.

`spec.yaml` is a small contract, `reference.make_app()` a correct server for it, and
`reference.make_app(variant)` the same server with exactly one planted violation. A contract
tester is proven by detecting every variant while passing the correct server.
"""

from tests.contract_corpus.reference import EXPECTED, SPEC_PATH, TOKEN, VARIANTS, make_app
from tests.contract_corpus.serve import serve, wsgi_app

__all__ = ["EXPECTED", "SPEC_PATH", "TOKEN", "VARIANTS", "make_app", "serve", "wsgi_app"]
