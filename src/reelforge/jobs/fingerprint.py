"""A stable hash of a request, to tell an idempotent retry from a different request."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from reelforge.spec import GenerationSpec


def spec_fingerprint(spec: GenerationSpec) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return "sha256:" + hashlib.sha256(value).hexdigest()
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in sorted(value.items())}
        return value

    blob = json.dumps(plain(spec), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()
