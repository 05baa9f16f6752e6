"""deploy/k8s and deploy/compose.yaml, checked without a cluster or a Docker daemon: the
Kubernetes manifests against the API's schemas (kubernetes-validate, strict: no unknown field),
the compose file against the Compose Specification's schema (the copy check-jsonschema ships),
and what this project needs of them: probes, resources, GPUs for diffusion workers, the
migration step first, autoscaling on the queue-depth metric the code exports, and no setting
name that reelforge would not read."""

from __future__ import annotations

import copy
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reelforge.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose.yaml"
K8S_VERSION = "1.30.0"


def documents() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in documents() if d["kind"] == kind]


def container(doc: dict[str, Any]) -> dict[str, Any]:
    (only,) = doc["spec"]["template"]["spec"]["containers"]
    return only


def env_of(c: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", [])}


def _validator() -> Any:
    try:
        import kubernetes_validate
    except ImportError:
        message = "kubernetes-validate is not installed (a dev dependency)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return kubernetes_validate


def test_every_manifest_is_valid_against_the_kubernetes_schemas() -> None:
    kv = _validator()
    docs = documents()
    assert len(docs) >= 10
    for name, doc in docs:
        try:
            kv.validate(doc, K8S_VERSION, strict=True)
        except kv.ValidationError as exc:
            pytest.fail(f"{name} {doc['kind']}/{doc['metadata']['name']}: {exc}")
    # strict means strict: an unknown field is refused
    broken = copy.deepcopy(by_kind("Deployment")[0])
    container(broken)["livenessProbes"] = container(broken).pop("livenessProbe")
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files


def _check_probes(c: dict[str, Any], port: str) -> None:
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"),
                        ("readinessProbe", "/readyz")):  # fmt: skip
        assert c[probe]["httpGet"] == {"path": path, "port": port}, (c["name"], probe)
    assert c["resources"]["requests"]["cpu"] and c["resources"]["limits"]["memory"]
    assert c["securityContext"]["allowPrivilegeEscalation"] is False


def test_api_deployment() -> None:
    (api,) = by_kind("Deployment")
    c = container(api)
    assert c["command"] == ["reelforge", "serve"]
    assert env_of(c)["REELFORGE_RUN_WORKERS"] == "false"  # API replicas render nothing
    _check_probes(c, "http")
    assert api["spec"]["replicas"] >= 2
    assert api["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_workers_one_statefulset_per_engine_with_gpus_for_diffusion() -> None:
    workers = {d["metadata"]["labels"]["reelforge.io/engine"]: d for d in by_kind("StatefulSet")}
    assert set(workers) == {"preview", "wan-vace"}
    for engine, sts in workers.items():
        c = container(sts)
        assert c["command"] == ["reelforge", "worker", "--engine", engine]
        _check_probes(c, "health")
        env = env_of(c)
        grace = sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > float(env["REELFORGE_DRAIN_SECONDS"])  # the drain fits in the stop
        assert env["REELFORGE_WORKER_HEALTH_PORT"] == str(c["ports"][0]["containerPort"])
    gpu = container(workers["wan-vace"])["resources"]
    assert gpu["limits"]["nvidia.com/gpu"] == 1 and gpu["requests"]["nvidia.com/gpu"] == 1
    assert "nvidia.com/gpu" not in container(workers["preview"])["resources"]["limits"]


def test_migration_job_runs_migrate_and_processes_wait_for_it() -> None:
    (job,) = by_kind("Job")
    c = container(job)
    assert c["command"] == ["reelforge", "migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    (config,) = by_kind("ConfigMap")
    assert config["data"]["REELFORGE_MIGRATE_ON_START"] == "false"


def test_workers_autoscale_on_the_queue_depth_the_code_exports(tmp_path: Path) -> None:
    from reelforge.platform.metrics import StoreGauges, render_metrics
    from reelforge.store.database import open_database

    exported = render_metrics(
        StoreGauges(open_database(f"sqlite:///{tmp_path / 'j.db'}"), ["preview", "wan-vace"])
    )[0].decode()
    targets = {}
    for hpa in by_kind("HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        for metric in hpa["spec"]["metrics"]:
            if metric["type"] == "External":
                m = metric["external"]["metric"]
                engine = m["selector"]["matchLabels"]["engine"]
                assert f'{m["name"]}{{engine="{engine}"}}' in exported
                targets[engine] = ref["name"]
    workers = {d["metadata"]["labels"]["reelforge.io/engine"]: d["metadata"]["name"]
               for d in by_kind("StatefulSet")}  # fmt: skip
    assert targets == workers


def test_compose_file_follows_the_compose_specification() -> None:
    schema_file = resources.files("check_jsonschema") / "builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(yaml.safe_load(COMPOSE.read_text()), schema)


def _setting_names() -> set[str]:
    names: set[str] = set()
    for _, doc in documents():
        if doc["kind"] in ("ConfigMap", "Secret"):
            names |= set(doc.get("data") or {}) | set(doc.get("stringData") or {})
        elif doc["kind"] in ("Deployment", "StatefulSet", "Job"):
            names |= set(env_of(container(doc)))
    for service in yaml.safe_load(COMPOSE.read_text())["services"].values():
        names |= set(service.get("environment") or {})
    return {n for n in names if n.startswith("REELFORGE_")}


def test_every_setting_named_is_one_reelforge_reads() -> None:
    fields = set(Settings.model_fields)
    unknown = sorted(
        n for n in _setting_names()
        if n.removeprefix("REELFORGE_").lower().split("__")[0] not in fields
    )  # fmt: skip
    assert not unknown, unknown
