"""Issue 15 (6): the deployment files, checked by parsing them (no container runtime
here): the current official Temporal images (no auto-setup), every tag pinned, health
checks and restart policies, probes on /healthz and /readyz, an HPA, a migration Job,
no secret value committed, and every casework environment variable a real setting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from casework.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|CODEC_KEYS|DATABASE_URL", re.I)
SETTINGS = {name.upper() for name in Settings.model_fields}
ONE_OFF = {"temporal-schema", "temporal-namespace", "migrate", "search-attributes"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def k8s_documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()) if d]


def containers() -> Iterator[tuple[str, dict[str, Any]]]:
    for document in k8s_documents("casework.yaml"):
        spec = document.get("spec", {})
        pod = spec.get("template", {}).get("spec", {})
        for container in pod.get("containers", []):
            yield f"{document['kind']}/{document['metadata']['name']}", container


def pinned(image: str) -> bool:
    name, _, tag = image.rpartition(":")
    return bool(name) and tag not in ("", "latest") and "/" not in tag


def test_compose_uses_the_official_temporal_images_not_auto_setup() -> None:
    images = {name: service.get("image", "") for name, service in compose()["services"].items()}
    assert not any("auto-setup" in image for image in images.values())
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert "temporal-sql-tool" in str(compose()["services"]["temporal-schema"]["command"])


def test_every_compose_image_and_helm_tag_is_pinned() -> None:
    for name, service in compose()["services"].items():
        assert pinned(service["image"]), (name, service["image"])
    for name, container in containers():
        assert pinned(container["image"]), name
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("FROM "):
            # A full version (3.11.11-slim-...), not a moving one (3.11-slim).
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", line.split()[1]), line
    values = yaml.safe_load((DEPLOY / "helm" / "temporal-values.yaml").read_text())
    for part in ("server", "admintools", "web"):
        assert values[part]["image"]["tag"] not in ("", "latest"), part


def test_every_compose_service_has_a_restart_policy_and_long_running_ones_a_health_check(
        ) -> None:
    for name, service in compose()["services"].items():
        assert service.get("restart") in ("unless-stopped", "always", "on-failure"), name
        if name in ONE_OFF:  # jobs: waited for by service_completed_successfully
            assert service["restart"] == "on-failure", name
        else:
            assert service.get("healthcheck", {}).get("test"), name


def _values(environment: Any) -> dict[str, str]:
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {str(k): str(v) for k, v in (environment or {}).items()}


def test_no_secret_value_is_committed() -> None:
    for name, service in compose()["services"].items():
        for key, value in _values(service.get("environment")).items():
            if SECRET_NAME.search(key):
                # Only interpolated from the environment (or a password inside a URL that is).
                assert "${" in value, (name, key)
    for document in k8s_documents("secrets.example.yaml"):
        assert document["kind"] == "Secret"
        assert all(value == "" for value in document.get("stringData", {}).values())
        assert "data" not in document
    for name, container in containers():
        for variable in container.get("env", []):
            if SECRET_NAME.search(variable["name"]):
                assert "secretKeyRef" in variable.get("valueFrom", {}), (name, variable)


CASEWORK_SERVICES = ("migrate", "search-attributes", "worker", "api")


def test_every_casework_environment_variable_is_a_setting() -> None:
    for name in CASEWORK_SERVICES:
        unknown = set(_values(compose()["services"][name]["environment"])) - SETTINGS
        assert not unknown, (name, unknown)
    [config_map] = [d for d in k8s_documents("casework.yaml") if d["kind"] == "ConfigMap"]
    assert not set(config_map["data"]) - SETTINGS
    for name, container in containers():
        assert not {v["name"] for v in container.get("env", [])} - SETTINGS, name
    for document in k8s_documents("secrets.example.yaml"):
        assert not set(document["stringData"]) - SETTINGS


def test_kubernetes_api_probes_hpa_and_migration_job() -> None:
    documents = k8s_documents("casework.yaml")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents}
    assert {("Deployment", "casework-api"), ("Deployment", "casework-worker"),
            ("Service", "casework-api"), ("Job", "casework-migrate"),
            ("HorizontalPodAutoscaler", "casework-api"),
            ("HorizontalPodAutoscaler", "casework-worker")} <= kinds
    probes = dict(containers())["Deployment/casework-api"]
    assert probes["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert probes["readinessProbe"]["httpGet"]["path"] == "/readyz"
    worker = dict(containers())["Deployment/casework-worker"]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    health = {v["name"]: v.get("value") for v in worker["env"]}["WORKER_HEALTH_BIND_ADDRESS"]
    assert {p["name"]: p["containerPort"] for p in worker["ports"]}["health"] == int(
        health.rpartition(":")[2])
    job = dict(containers())["Job/casework-migrate"]
    assert job["command"] == ["casework", "migrate"]
    secrets = {ref["valueFrom"]["secretKeyRef"]["name"] for _, c in containers()
               for ref in c.get("env", []) if "valueFrom" in ref}
    assert {"casework-database", "casework-auth", "casework-codec-keys"} <= secrets


@pytest.mark.parametrize("name", ["compose.yaml", "k8s/casework.yaml",
                                  "k8s/secrets.example.yaml", "helm/temporal-values.yaml"])
def test_deploy_files_parse(name: str) -> None:
    assert list(yaml.safe_load_all((DEPLOY / name).read_text()))


KEY_MATERIAL = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|[A-Za-z0-9+/]{43}="
                          r"|://[^:/\s]+:(?!\$\{|\.\.\.@|<)[^@\s]+@")
"""A PEM key, a base64 32-byte key (a codec key) or a password inside a URL that is not
interpolated from the environment nor a placeholder (`...`, `<password>`)."""


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")
    else:
        yield path, node


def test_no_key_material_in_any_deploy_file_and_no_secret_in_config() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file():
            assert not KEY_MATERIAL.search(path.read_text()), path
    [config_map] = [d for d in k8s_documents("casework.yaml") if d["kind"] == "ConfigMap"]
    assert not [key for key in config_map["data"] if SECRET_NAME.search(key)]
    values = yaml.safe_load((DEPLOY / "helm" / "temporal-values.yaml").read_text())
    for where, value in _walk(values):
        if re.search(r"password", where.rsplit(".", 1)[-1], re.I):
            assert not value, where  # the chart reads it from existingSecret
