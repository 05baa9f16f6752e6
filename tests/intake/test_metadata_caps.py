"""`metadata` caps (issue 12): 16 keys, 64-character keys, 512-character values by default,
configurable, a 400 naming the key, and no job stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.errors import InvalidRequest
from reelforge.intake.limits import Limits, LimitsSettings
from reelforge.intake.rules import check_metadata
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry


def test_defaults_accept_the_caps_exactly() -> None:
    limits = Limits()
    check_metadata({f"k{i}": "v" * 512 for i in range(16)}, limits)
    check_metadata({"k" * 64: ""}, limits)
    check_metadata({}, limits)


@pytest.mark.parametrize(
    ("metadata", "param", "says"),
    [
        ({f"k{i}": "v" for i in range(17)}, "metadata", "17 keys; at most 16"),
        ({"k" * 65: "v"}, "metadata." + "k" * 37 + "...", "65 characters"),
        ({"": "v"}, "metadata.", "1..64 characters"),
        ({"order": "v" * 513}, "metadata.order", "513 characters; at most 512"),
    ],
)
def test_over_a_cap_is_a_400_naming_the_key(
    metadata: dict[str, str], param: str, says: str
) -> None:
    with pytest.raises(InvalidRequest) as err:
        check_metadata(metadata, Limits())
    assert err.value.code == "invalid_request.metadata"
    assert err.value.param == param
    assert says in err.value.message


def test_caps_are_settings() -> None:
    limits = LimitsSettings(max_metadata_keys=2, max_metadata_value_chars=4).to_limits()
    check_metadata({"a": "1234", "b": ""}, limits)
    with pytest.raises(InvalidRequest):
        check_metadata({"a": "", "b": "", "c": ""}, limits)
    with pytest.raises(InvalidRequest):
        check_metadata({"a": "12345"}, limits)


def test_create_and_quote_refuse_over_cap_metadata_and_store_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", limits=LimitsSettings(max_metadata_keys=3))
    app = create_app(settings, engines=fixture_registry())
    body = {"prompt": "x", "seconds": 1, "size": "854x480"}
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        for path in ("/v1/videos", "/v1/videos/quote"):
            r = client.post(path, json={**body, "metadata": {f"k{i}": "v" for i in range(4)}})
            assert r.status_code == 400, r.text
            assert r.json()["error"]["code"] == "invalid_request.metadata"
            r = client.post(path, json={**body, "metadata": {"big": "v" * 513}})
            assert r.status_code == 400 and r.json()["error"]["param"] == "metadata.big"
        assert client.get("/v1/videos").json()["data"] == []
        ok = client.post("/v1/videos", json={**body, "metadata": {"order": "42"}})
        assert ok.status_code == 202 and ok.json()["metadata"] == {"order": "42"}
