"""A created record's Location names its id as one path segment: ``quote``'s answer, which
an id of letters, digits and the segment's own characters is already."""

from __future__ import annotations

import random
import string
from urllib.parse import quote

from sandbox.http.responder import _SEGMENT, _segment


def test_a_segment_is_what_quote_makes_of_it() -> None:
    rng = random.Random(1)
    alphabet = string.printable + "é☃/?#%"
    samples = ["usr_AxmZKjjtmEaP", "a/b", "a b", "x%y", "", "~", "ü", "42", "a:b@c"]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(5000)
    ]
    for text in samples:
        assert _segment(text) == quote(text, safe=_SEGMENT), text
