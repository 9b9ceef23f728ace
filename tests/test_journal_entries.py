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


def test_an_entrys_response_headers_are_dict_of_werkzeugs_headers() -> None:
    from werkzeug.datastructures import Headers

    from sandbox.observe.log import _first_values

    for pairs in (
        [("Location", "/v1/users/x"), ("Content-Type", "application/json")],
        [("Link", "<a>"), ("Set-Cookie", "a=1"), ("Link", "<b>"), ("set-cookie", "b=2")],
        [("x-a", "1"), ("X-A", "2"), ("x-a", "3")],
        [],
    ):
        headers = Headers(pairs)
        assert _first_values(headers) == dict(headers)
        assert list(_first_values(headers)) == list(dict(headers))


def test_an_entrys_request_environ_is_the_header_keys_in_order() -> None:
    from sandbox.observe.log import _HEADER_KEYS, _header_environ

    rng = random.Random(3)
    for sample in SAMPLES:
        for _ in range(5):
            keys = [*sample, "wsgi.input", "REQUEST_METHOD", "PATH_INFO"]
            rng.shuffle(keys)
            environ = {key: sample.get(key, "x") for key in keys}
            expected = {k: v for k, v in environ.items() if k.startswith(_HEADER_KEYS)}
            for _ in range(2):  # worked out, then kept
                got = _header_environ(environ)
                assert got == expected and list(got) == list(expected)
