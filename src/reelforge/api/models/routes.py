"""GET /v1/models: every engine and model name, ready or not and why, what it accepts, prices."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from reelforge.api.deps import ModelsDep, ReadKey
from reelforge.presenters.models import model_object

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", summary="List the models and engines")
def list_models(models: ModelsDep, _key: ReadKey) -> dict[str, Any]:
    return {"object": "list", "data": [model_object(m) for m in models.all()]}


@router.get("/{model_id:path}", summary="One model (engine, engine:preset or alias)")
def get_model(model_id: str, models: ModelsDep, _key: ReadKey) -> dict[str, Any]:
    return model_object(models.get(model_id))
