"""Webhook bodies of the dialects whose clients expect their own shape (Ark callbacks, the flat
dialect); every other dialect gets the native event. Used by every process that can finish jobs:
the API and `reelforge worker`."""

from __future__ import annotations

from reelforge.jobs.notifications import BodyBuilder
from reelforge.presenters import ark, eachlabs

WEBHOOK_BODIES: dict[str, BodyBuilder] = {
    eachlabs.DIALECT: eachlabs.webhook_body,
    ark.ARK_DIALECT: ark.callback_body,
}
