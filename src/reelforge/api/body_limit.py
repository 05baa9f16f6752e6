"""Cap request bodies as they stream in: a client that sends no Content-Length (chunked) is held
to the same limit as one that does."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reelforge import codes
from reelforge.errors import PayloadTooLarge


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLarge(
                        f"request body is over {self.max_bytes} bytes",
                        code=codes.INVALID_REQUEST_TOO_LARGE,
                        param="body",
                    )
            return message

        await self.app(scope, counting_receive, send)
