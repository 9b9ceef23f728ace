"""A journal entry's request headers are what werkzeug's view of the environ shows, with
credentials shortened; worked out by a table of environ keys instead of titling each name
anew per request."""

from __future__ import annotations

import random

from werkzeug.datastructures import EnvironHeaders

from sandbox.observe.journal import environ_headers, safe_headers

SAMPLES = [
    {"HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": "Bearer sk_test_332c1f49fdff1208",
     "HTTP_ACCEPT": "application/json", "CONTENT_TYPE": "application/json",
     "CONTENT_LENGTH": "55", "HTTP_USER_AGENT": "curl/8"},
    {"CONTENT_TYPE": "", "CONTENT_LENGTH": "", "HTTP_COOKIE": "session=abcdefghijklmnopqrstuvwxyz",
     "HTTP_X_API_KEY": "k" * 40, "HTTP_API_KEY": "short",
     "HTTP_PROXY_AUTHORIZATION": "Basic dXNlcg=="},
    {"HTTP_CONTENT_TYPE": "text/plain", "HTTP_CONTENT_LENGTH": "3", "HTTP_X_WEIRD__NAME": "1",
     "HTTP_x_lower": "2", "HTTP_": "3", "HTTP_X_REQUEST_ID": "abc", "CONTENT_TYPE": "a/b"},
]  # fmt: skip


def test_entry_headers_are_werkzeugs_with_credentials_shortened() -> None:
    rng = random.Random(5)
    for sample in SAMPLES:
        for _ in range(20):  # any order the environ has them in, each key seen again
            keys = list(sample)
            rng.shuffle(keys)
            environ = {key: sample[key] for key in keys}
            expected = safe_headers(EnvironHeaders(environ))
            got = environ_headers(environ)
            assert got == expected
            assert list(got) == list(expected)
    assert environ_headers(SAMPLES[0])["Authorization"] == "Bearer sk_test_332c…"
