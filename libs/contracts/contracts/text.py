"""Text every service can store: the one rule for what PostgreSQL refuses.

PostgreSQL text cannot hold U+0000, and a lone surrogate (what a JSON "\\ud800" escape decodes
to) has no UTF-8 encoding. A field typed `Text` refuses both with a validation error naming the
field (a 422 at the HTTP edge, a dead letter on Kafka), instead of a 500 from the database.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    found = _UNSTORABLE.search(value)
    if found:
        raise PydanticCustomError(
            "unstorable_character", f"must not contain the character U+{ord(found.group()):04X}")
    return value


Text = Annotated[str, AfterValidator(storable)]
