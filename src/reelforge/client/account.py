"""The operations of the key's account: usage, the models it may use, and plain JSON calls
(the `/v1/keys` methods of the clients).
"""

from __future__ import annotations

from typing import Any

import httpx

from reelforge.client.instructions import Call, Op
from reelforge.client.types import Model, Usage


def _json(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def usage(group_by: str = "day", start: float | None = None, end: float | None = None) -> Op[Usage]:
    params: dict[str, Any] = {"group_by": group_by}
    if start is not None:
        params["start"] = start
    if end is not None:
        params["end"] = end
    response = yield Call("GET", "/v1/usage", params=params)
    return Usage.from_json(response.json())


def models() -> Op[list[Model]]:
    response = yield Call("GET", "/v1/models")
    return [Model.from_json(m) for m in (response.json() or {}).get("data") or ()]


def json_call(method: str, path: str, body: Any = None) -> Op[Any]:
    response = yield Call(method, path, json=body)
    return _json(response)
