"""Plain text from people: control characters stripped, line ends normalised, size limited."""

from __future__ import annotations

import re

from matcher.errors import ValidationError

# C0 controls other than tab and newline, DEL, C1 controls, and the bidi overrides and
# isolates that can make text read differently from what it says
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_ENDS = re.compile(r"\r\n?|[\u2028\u2029]")
_BLANK_RUN = re.compile(r"\n{3,}")


def clean_text(value: str, *, field: str, max_chars: int, required: bool = True) -> str:
    """`value` as plain text: CR LF and lone CR become LF, control characters are removed,
    more than one blank line becomes one, and leading and trailing space is trimmed.
    ValidationError (naming `field`) when it is empty but required or longer than `max_chars`
    after cleaning."""
    text = _LINE_ENDS.sub("\n", value)
    text = _CONTROL.sub("", text)
    text = _BLANK_RUN.sub("\n\n", text).strip()
    if required and not text:
        raise ValidationError("must not be empty", field=field)
    if len(text) > max_chars:
        raise ValidationError(
            f"is {len(text)} characters long; at most {max_chars} are allowed", field=field
        )
    return text


def one_line(value: str, max_chars: int = 120) -> str:
    """For an e-mail subject: one line, no control characters, cut to `max_chars`."""
    text = " ".join(_CONTROL.sub("", _LINE_ENDS.sub(" ", value)).split())
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"
