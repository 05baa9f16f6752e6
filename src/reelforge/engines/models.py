"""Model names clients send, resolved to an engine and a preset.

Hosted model ids (Seedance 2.0 and its reseller names) resolve to the operator's default engine,
so existing client code runs unchanged; engine names resolve to themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from reelforge import codes
from reelforge.core.job import ResolvedModel
from reelforge.errors import UnknownModel

PRESETS = ("", "fast", "pro", "default")

# alias -> preset; the engine is the configured default model's engine. Every model id that the
# seeds, the Ark docs (BytePlus `dreamina-`, Volcengine `doubao-`, dated `-260128` ids), the
# resellers (fal endpoints, each::labs slugs) and the OpenAI Videos SDK send. Lower case; the
# lookup lower-cases what the client sent. docs/api/ark.md ("Model names") lists them.
SEEDANCE_ALIASES: dict[str, str] = {
    # Seedance 2.0, as the seeds and resellers spell it
    "seedance-2.0": "pro",
    "seedance-2-0": "pro",
    "seedance-2.0-pro": "pro",
    "seedance-2-0-pro": "pro",
    "seedance-2.0-fast": "fast",
    "seedance-2-0-fast": "fast",
    # Ark model ids (BytePlus ModelArk, Volcengine Ark), dated
    "seedance-2-0-260128": "pro",
    "seedance-2-0-fast-260128": "fast",
    "dreamina-seedance-2-0-260128": "pro",
    "dreamina-seedance-2-0-fast-260128": "fast",
    "doubao-seedance-2-0-260128": "pro",
    "doubao-seedance-2-0-fast-260128": "fast",
    # Seedance 2.5 (seen in the wild) and 1.5 pro (still listed by Ark): same engine
    "seedance-2.5": "pro",
    "seedance-2-5": "pro",
    "dreamina-seedance-2-5-260628": "pro",
    "doubao-seedance-2-5-260628": "pro",
    "seedance-1-5-pro-251215": "pro",
    "dreamina-seedance-1-5-pro-251215": "pro",
    "doubao-seedance-1-5-pro-251215": "pro",
    # fal endpoints and each::labs slugs
    "bytedance-seedance-2-0-reference-to-video": "pro",
    "bytedance-seedance-2-0-fast-reference-to-video": "fast",
    "bytedance/seedance-2.0": "pro",
    "bytedance/seedance-2.0/reference-to-video": "pro",
    "bytedance/seedance-2.0/fast/reference-to-video": "fast",
    "seedance-2.0-reference-to-video": "pro",
    # the OpenAI Videos API's model names, so its SDK's defaults run unchanged
    "sora-2": "fast",
    "sora-2-2025-10-06": "fast",
    "sora-2-2025-12-08": "fast",
    "sora-2-pro": "pro",
    "sora-2-pro-2025-10-06": "pro",
}


def resolve_model(
    name: str | None,
    *,
    default_model: str,
    engines: list[str],
    aliases: Mapping[str, str] | None = None,
    presets: Callable[[str], tuple[str, ...]] | None = None,
) -> ResolvedModel:
    """`None` means the default model. `aliases` are the operator's own names
    (`REELFORGE_MODEL_ALIASES`: name -> "engine" or "engine:preset"), tried before the built-in
    hosted model ids. `presets` gives an engine's own preset names (e.g. `ltx2:two_stage`), taken
    besides fast/pro/default. Raises UnknownModel naming the choices."""
    asked = (name or default_model).strip()
    target = (aliases or {}).get(asked) or (aliases or {}).get(asked.lower())
    if target is not None:
        if target.partition(":")[0] not in engines:
            raise UnknownModel(
                f"model {asked!r} is configured as {target!r}, which is not an engine here "
                f"({', '.join(engines)})",
                code=codes.ENGINE_UNAVAILABLE,
                param="model",
            )
        asked = target
    if len(asked) > 200:
        raise UnknownModel(
            f"model is {len(asked)} characters long; model names are at most 200",
            code=codes.INVALID_REQUEST_UNKNOWN_MODEL,
            param="model",
        )
    base, _, preset = asked.partition(":")
    if base in engines:
        known = (*PRESETS, *(presets(base) if presets is not None else ()))
        if preset not in known:
            raise UnknownModel(
                f"model {asked!r}: {base} has the presets {', '.join(dict.fromkeys(known[1:]))}",
                code=codes.INVALID_REQUEST_UNKNOWN_MODEL,
                param="model",
            )
        return ResolvedModel(base, preset or "default")
    if asked.lower() in SEEDANCE_ALIASES:
        default_engine = default_model.partition(":")[0]
        if default_engine not in engines:
            raise UnknownModel(
                f"the server's default model {default_model!r} is not an engine here "
                f"({', '.join(engines)}); the operator must set REELFORGE_DEFAULT_MODEL to one",
                code=codes.ENGINE_UNAVAILABLE,
                param="model",
            )
        default = ResolvedModel(default_engine, "default")
        preset = SEEDANCE_ALIASES[asked.lower()]
        # The preview engine has no presets: it renders the same animatic for fast and pro.
        return ResolvedModel(default.engine, "default" if default.engine == "preview" else preset)
    raise UnknownModel(
        f"model {asked!r} is not known; use one of {', '.join(engines)} or a Seedance 2.0 "
        "model id such as 'seedance-2.0'",
        code=codes.INVALID_REQUEST_UNKNOWN_MODEL,
        param="model",
    )
