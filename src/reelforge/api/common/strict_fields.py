"""No silent drops: every dialect checks the field names of a request against its vendor's list.

Each dialect declares a `Fields`: the names it honours (`known`), the names its vendor documents
that reelforge does not implement (`unsupported`, each with why, the values that ask for nothing
missing, and whether a value is refused or accepted with a warning), and, for names people bring
from other APIs, a hint. `check_fields` then

- refuses a name nobody documents with 400 `invalid_request.unknown_parameter` naming it (with
  "did you mean ..." for a misspelling), as OpenAI's API does;
- refuses a documented but unimplemented name that carries a value with 400
  `invalid_request.unsupported_parameter` naming it, unless the vendor's own SDK always sends
  it (`warn=True`): then the request is accepted and the job lists an `ignored_parameter`
  warning;
- lets `null` (and `""`) through for documented names: the Ark SDKs send every optional field,
  `null` when unset.

Values are checked afterwards by each dialect's mapping (`spec_fields`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reelforge import codes
from reelforge.errors import InvalidRequest
from reelforge.spec import FieldWarning


@dataclass(frozen=True)
class Unsupported:
    """A field the vendor documents and reelforge does not implement."""

    why: str  # said in the error or the warning: what reelforge does instead
    accepted: tuple[Any, ...] = ()  # values that ask for nothing missing (the vendor's default)
    warn: bool = False  # the vendor's SDK always sends it: accept, and list a warning


@dataclass(frozen=True)
class Fields:
    """The field names of one request object of one dialect."""

    known: frozenset[str]  # honoured
    unsupported: Mapping[str, Unsupported] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)  # unknown names from other APIs

    @classmethod
    def of(
        cls,
        known: Iterable[str],
        unsupported: Mapping[str, Unsupported] | None = None,
        hints: Mapping[str, str] | None = None,
    ) -> Fields:
        return cls(frozenset(known), dict(unsupported or {}), dict(hints or {}))

    @property
    def documented(self) -> frozenset[str]:
        return self.known | frozenset(self.unsupported)


def _given(value: Any) -> bool:
    return value is not None and value != ""


def _accepted(value: Any, rule: Unsupported) -> bool:
    return any(value == ok and type(value) is type(ok) for ok in rule.accepted)


def check_fields(body: Mapping[str, Any], fields: Fields, where: str = "") -> list[FieldWarning]:
    """Refuse the first unknown or unsupported field of `body` (400 naming `where` + its name);
    answer the warnings of the fields accepted but not honoured. `where` prefixes the names in
    errors: `"input."`, `"content[2]."`."""
    warnings: list[FieldWarning] = []
    for name, value in body.items():
        param = f"{where}{name}"
        if name in fields.known:
            continue
        rule = fields.unsupported.get(name)
        if rule is None:
            raise _unknown(name, param, fields)
        if not _given(value) or _accepted(value, rule):
            continue
        if rule.warn:
            warnings.append(
                FieldWarning(
                    code=codes.IGNORED_PARAMETER,
                    message=f"{param} is {value!r} and was ignored: {rule.why}",
                    param=param,
                )
            )
            continue
        raise InvalidRequest(
            f"{param} is {value!r}, which is not supported: {rule.why}",
            code=codes.INVALID_REQUEST_UNSUPPORTED_PARAMETER,
            param=param,
        )
    return warnings


def _unknown(name: str, param: str, fields: Fields) -> InvalidRequest:
    hint = fields.hints.get(name)
    if not hint:
        close = difflib.get_close_matches(name, sorted(fields.documented), n=1, cutoff=0.7)
        hint = f"did you mean {close[0]!r}?" if close else ""
    message = f"unknown parameter: {param}" + (f" ({hint})" if hint else "")
    message += f"; the fields here are {', '.join(sorted(fields.documented))}"
    return InvalidRequest(message, code=codes.INVALID_REQUEST_UNKNOWN_PARAMETER, param=param)


def check_object(value: Any, fields: Fields, where: str) -> list[FieldWarning]:
    """`check_fields` for a nested value that should be an object (anything else is left to the
    dialect's own checks, which name the field)."""
    if isinstance(value, Mapping):
        return check_fields(value, fields, where)
    return []
