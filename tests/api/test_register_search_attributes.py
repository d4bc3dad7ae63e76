"""`casework register-search-attributes` (DESIGN decision 5, deploy/README.md): the
one-off job that prepares a namespace of a real cluster, here against the test dev
server, on a namespace created for the test."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.testing import WorkflowEnvironment

from casework.config import SEARCH_ATTRIBUTES


def _run_job(address: str, namespace: str) -> str:
    env = {**os.environ, "TEMPORAL_ADDRESS": address, "TEMPORAL_NAMESPACE": namespace}
    done = subprocess.run([sys.executable, "-m", "casework.cli", "register-search-attributes"],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_registers_missing_attributes_once(temporal_env: WorkflowEnvironment) -> None:
    client = temporal_env.client
    namespace = f"ns-{uuid.uuid4().hex[:8]}"
    retention = Duration()
    retention.FromTimedelta(timedelta(days=1))
    await client.workflow_service.register_namespace(RegisterNamespaceRequest(
        namespace=namespace, workflow_execution_retention_period=retention))
    address = client.service_client.config.target_host

    first = await asyncio.to_thread(_run_job, address, namespace)
    assert "added" in first and all(name in first for name in SEARCH_ATTRIBUTES)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))
    assert set(SEARCH_ATTRIBUTES) <= set(listed.custom_attributes)
    second = await asyncio.to_thread(_run_job, address, namespace)
    assert "already registered" in second
