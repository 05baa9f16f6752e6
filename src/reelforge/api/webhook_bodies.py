"""Webhook bodies of the dialects whose clients expect their own shape (Ark callbacks, the flat
dialect). Registered by every process that can finish jobs: the API and `reelforge worker`."""

from __future__ import annotations

from reelforge.api.ark import ARK_DIALECT
from reelforge.api.ark.presenter import callback_body as ark_callback_body
from reelforge.api.eachlabs.presenter import DIALECT as EACHLABS
from reelforge.api.eachlabs.presenter import webhook_builder as eachlabs_webhook
from reelforge.runtime import Runtime


def register_dialect_webhook_bodies(runtime: Runtime) -> None:
    runtime.webhooks.register_body(EACHLABS, eachlabs_webhook(runtime))
    runtime.webhooks.register_body(ARK_DIALECT, ark_callback_body(runtime))
