"""The TF Serving manifests (kubeflow/serving/deployment.yaml, service.yaml), checked without a cluster.

No cluster and no TF Serving binary exist here, so the manifests are checked the way the API server would read
them: deserialized into the kubernetes client's typed models (V1Deployment, V1Service), with every YAML key
required to map to a model field (the client's deserializer silently drops keys it does not know, exactly the
misspellings the API server would reject or ignore), and with the serving contract asserted on the typed objects.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
SERVING = ROOT / "kubeflow" / "serving"


class _Response:
    """The one attribute ApiClient.deserialize reads from an HTTP response: the JSON body."""

    def __init__(self, obj: Any) -> None:
        self.data = json.dumps(obj)


def deserialize(obj: dict, kind: str) -> Any:
    """A manifest as the typed model class `kind` (e.g. "V1Deployment").

    Uses ApiClient.deserialize, the public method the generated API calls use on every response, fed a stand-in
    response carrying the manifest as its JSON body; the name-mangled ApiClient._ApiClient__deserialize would
    skip the JSON step but is private. With the client's default client-side validation, a missing required
    field (a container without a name, a port without containerPort) raises ValueError here."""
    with client.ApiClient() as api:
        return api.deserialize(_Response(obj), kind)


def unknown_keys(data: Any, model: Any, path: str = "") -> list[str]:
    """Dotted paths of YAML keys that no field of the deserialized model took: each key of a mapping must be a
    JSON name in the model's attribute_map; values are then compared with the field they became. Free-form maps
    (labels, resource quantities) deserialize to plain dicts, whose keys are data, not field names."""
    if isinstance(data, list) and isinstance(model, list):
        return [bad for i, (d, m) in enumerate(zip(data, model)) for bad in unknown_keys(d, m, f"{path}[{i}]")]
    if not isinstance(data, dict) or not hasattr(model, "attribute_map"):
        return []
    fields = {json_key: attr for attr, json_key in model.attribute_map.items()}
    bad = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else key
        if key not in fields:
            bad.append(where)
        else:
            bad.extend(unknown_keys(value, getattr(model, fields[key]), where))
    return bad


def load(name: str) -> dict:
    return yaml.safe_load((SERVING / name).read_text())


@pytest.fixture(scope="module")
def deployment_yaml() -> dict:
    return load("deployment.yaml")


@pytest.fixture(scope="module")
def service_yaml() -> dict:
    return load("service.yaml")


@pytest.fixture(scope="module")
def deployment(deployment_yaml) -> client.V1Deployment:
    return deserialize(deployment_yaml, "V1Deployment")


@pytest.fixture(scope="module")
def service(service_yaml) -> client.V1Service:
    return deserialize(service_yaml, "V1Service")


@pytest.fixture(scope="module")
def container(deployment) -> client.V1Container:
    (only,) = deployment.spec.template.spec.containers
    return only


@pytest.fixture(scope="module")
def model_name() -> str:
    import trainer_module  # noqa: F401  (Keras 2 before TensorFlow: loading a config imports the model registry)
    from pipeline.config.loader import load_config

    return load_config("taxi").model_name


def flags(container: client.V1Container) -> dict[str, str]:
    out = {}
    for arg in container.args or []:
        key, sep, value = arg.partition("=")
        assert key.startswith("--") and sep, f"expected --flag=value, got {arg!r}"
        out[key[2:]] = value
    return out


def test_every_yaml_key_is_a_field_of_the_kubernetes_model(deployment_yaml, deployment, service_yaml, service):
    assert unknown_keys(deployment_yaml, deployment) == []
    assert unknown_keys(service_yaml, service) == []


def test_a_misspelled_key_is_noticed(deployment_yaml, service_yaml):
    # The check above is only worth something if it sees what the deserializer drops silently.
    broken = copy.deepcopy(deployment_yaml)
    probe_container = broken["spec"]["template"]["spec"]["containers"][0]
    probe_container["readinesProbe"] = probe_container.pop("readinessProbe")
    typed = deserialize(broken, "V1Deployment")
    assert typed.spec.template.spec.containers[0].readiness_probe is None  # dropped without a word
    assert unknown_keys(broken, typed) == ["spec.template.spec.containers[0].readinesProbe"]

    broken = copy.deepcopy(service_yaml)
    broken["spec"]["ports"][1]["targetport"] = broken["spec"]["ports"][1].pop("targetPort")
    assert unknown_keys(broken, deserialize(broken, "V1Service")) == ["spec.ports[1].targetport"]


def test_kinds_and_api_versions(deployment, service):
    assert (deployment.api_version, deployment.kind) == ("apps/v1", "Deployment")
    assert (service.api_version, service.kind) == ("v1", "Service")


def test_container_runs_a_pinned_tf_serving_matching_the_locked_tensorflow(container):
    match = re.fullmatch(r"tensorflow/serving:(\d+)\.(\d+)\.(\d+)", container.image)
    assert match, f"expected tensorflow/serving:<version>, got {container.image!r}"
    # The server must know every op of the SavedModel: same major.minor as the TensorFlow that exports it.
    locked = re.search(r"^tensorflow==(\d+)\.(\d+)\.", (ROOT / "requirements.lock").read_text(), re.M)
    assert locked and match.groups()[:2] == locked.groups(), (container.image, locked and locked.group(0))


def test_server_flags(container, model_name):
    assert container.command == ["tensorflow_model_server"]
    args = flags(container)
    assert args["model_name"] == model_name == "taxi"
    assert args["port"] == "8500" and args["rest_api_port"] == "8501"
    # The Pusher writes <serving_dir>/<model_name>/<version>/: the base path is the model's directory.
    assert args["model_base_path"].rstrip("/").endswith(f"/{model_name}"), args["model_base_path"]


def test_model_base_path_is_on_the_mounted_volume(deployment, container):
    base = flags(container)["model_base_path"]
    if base.startswith("gs://"):
        return  # served straight from GCS: no volume needed
    mounts = {m.name: m for m in container.volume_mounts or []}
    on = [m for m in mounts.values() if base.startswith(m.mount_path.rstrip("/") + "/")]
    assert on, f"--model_base_path={base} is not below any volume mount"
    volumes = {v.name: v for v in deployment.spec.template.spec.volumes or []}
    assert on[0].name in volumes, f"volumeMount {on[0].name} has no volume"
    assert on[0].read_only, "the server only reads the models"


def test_container_ports(container):
    ports = {p.container_port: p.name for p in container.ports}
    assert ports == {8500: "grpc", 8501: "http"}


def test_probes(container, model_name):
    ready = container.readiness_probe.http_get
    assert ready.path == f"/v1/models/{model_name}" and ready.port == 8501
    assert container.liveness_probe is not None


def test_resources_are_bounded(container):
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(getattr(container.resources, part) or {}), part


def test_labels_select_the_pods(deployment, service):
    pod_labels = deployment.spec.template.metadata.labels
    assert pod_labels.get("app") == "tfx-e2e-serving"
    assert deployment.spec.selector.match_labels.items() <= pod_labels.items()
    assert service.spec.selector and service.spec.selector.items() <= pod_labels.items()


def test_service_exposes_grpc_and_rest(service, container):
    assert service.spec.type == "ClusterIP"
    ports = {p.name: (p.port, p.target_port) for p in service.spec.ports}
    assert ports == {"grpc": (8500, 8500), "http": (8501, 8501)}
    assert {p.target_port for p in service.spec.ports} <= {p.container_port for p in container.ports}
