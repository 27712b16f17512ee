"""kubeflow/submit.py: dry runs, offline refusals, and real submissions driven all the way to the wire.

This machine cannot reach Google Cloud or any Kubeflow Pipelines host, so the Google Cloud and KFP transports are
replaced by fakes here — only the transports, at the last step before bytes would leave the process, never the
code above them:

- Vertex AI: `grpc._channel.Channel.unary_unary`, the gRPC channel aiplatform's PipelineServiceClient asks for its
  CreatePipelineJob stub. The fake serializes the request with the stub's own serializer (the bytes that would go
  on the wire), answers with a serialized `PipelineJob` (state PIPELINE_STATE_PENDING), and records both.
- Google Cloud Storage (aiplatform's pipeline-root bucket check before creating a job):
  `requests.Session.request`, under google-auth's AuthorizedSession.
- Kubeflow Pipelines: `urllib3.PoolManager.urlopen`, under kfp_server_api's REST client; the fake plays the KFP
  v2beta1 API (healthz, experiments, runs) with JSON bodies the client deserializes into its model classes.

On top of that, for every test, `socket.socket.connect`, `connect_ex` and `socket.getaddrinfo` raise and record
the attempt, gRPC calls nobody answers raise, and a test fails at teardown if anything tried to reach a network.
"""

from __future__ import annotations

import copy
import io
import json
import socket
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

import pipeline  # noqa: F401  (Keras 2 before TensorFlow/TFX/aiplatform)
from kubeflow.submit import SubmitError, SubmitResult, format_result, submit

PROJECT, REGION = "p", "us-central1"
SERVICE_ACCOUNT = "runner@p.iam.gserviceaccount.com"
KFP_HOST = "http://kfp.example:8080"
DATA = "gs://b/data/taxi"
CREATE_PIPELINE_JOB = "/google.cloud.aiplatform.v1.PipelineService/CreatePipelineJob"
FAKE_JOB_NAME = f"projects/{PROJECT}/locations/{REGION}/pipelineJobs/tfx-e2e-123"
RESOLVERS = ("latest_blessed_model_resolver-model-blessing-resolver", "latest_blessed_model_resolver-model-resolver")


@pytest.fixture(scope="module")
def compiled_as_is(tmp_path_factory) -> Path:
    from kubeflow.compile import CompileOptions, compile_pipeline
    from pipeline.config.loader import load_config

    return compile_pipeline(
        load_config("taxi"),
        CompileOptions(
            target="vertex",
            image="us-docker.pkg.dev/p/r/tfx-e2e:1",
            pipeline_root="gs://b/root",
            data=DATA,
            serving_dir="gs://b/serving",
            out=tmp_path_factory.mktemp("compiled") / "taxi-vertex.json",
        ),
    )


@pytest.fixture(scope="module")
def compiled(compiled_as_is, tmp_path_factory) -> Path:
    """The compiled job, with the data-root value filled in only if compile left it out.

    Submitting refuses a job whose pipeline parameter has no value; whether compile provides it is checked (and
    reported) by test_the_compiled_job_carries_its_data_root alone, so the tests below exercise submit either way.
    """
    job = json.loads(compiled_as_is.read_text())
    if _data_root(job) is not None:
        return compiled_as_is
    job["runtimeConfig"]["parameters"] = {"data-root": {"stringValue": DATA}}
    out = tmp_path_factory.mktemp("completed") / "taxi-vertex.json"
    out.write_text(json.dumps(job))
    return out


def _data_root(job: dict):
    runtime = job.get("runtimeConfig", {})
    if "data-root" in (runtime.get("parameterValues") or {}):
        return runtime["parameterValues"]["data-root"]
    return (runtime.get("parameters") or {}).get("data-root", {}).get("stringValue")


def test_the_compiled_job_carries_its_data_root(compiled_as_is):
    """compile's RuntimeParameter default is not written by KubeflowV2DagRunner: the value must be in runtimeConfig."""
    assert _data_root(json.loads(compiled_as_is.read_text())) == DATA, (
        "the compiled job has no value for pipeline parameter data-root, so submit refuses it: kubeflow/compile.py "
        "must pass parameter_values={'data-root': options.data} to KubeflowV2DagRunner.run"
    )


@pytest.fixture(scope="module")
def job(compiled) -> dict:
    return json.loads(compiled.read_text())


def variant(job: dict, tmp_path: Path, change) -> Path:
    """A changed copy of the compiled job."""
    changed = copy.deepcopy(job)
    change(changed)
    out = tmp_path / "changed.json"
    out.write_text(json.dumps(changed))
    return out


def task_names(spec: dict) -> list[str]:
    return sorted(spec["root"]["dag"]["tasks"])


# ---------------------------------------------------------------------------------------------------------------
# The wire: every way out of the process is either a fake or a recorded, failing attempt


class NetworkBlocked(AssertionError):
    pass


class Wire:
    def __init__(self):
        self.blocked: list[str] = []  # attempts no fake answered
        self.grpc: dict = {}  # full gRPC method name -> handler(request bytes, metadata) -> response bytes
        self.http: list = []  # (method, url prefix, handler(method, url, body) -> (status, payload))
        self.calls: list[dict] = []  # every answered call, in order

    def block(self, what: str):
        self.blocked.append(what)
        raise NetworkBlocked(f"network access attempted in a test: {what}")

    def answer_http(self, method: str, url: str, body):
        for want_method, prefix, handler in self.http:
            if method == want_method and url.startswith(prefix):
                self.calls.append({"kind": "http", "method": method, "url": url, "body": body})
                return handler(method, url, body)
        return self.block(f"{method} {url}")


class FakeUnaryUnary:
    """What a grpc channel hands the client for one method; serializes like the real stub would."""

    def __init__(self, wire: Wire, method: str, request_serializer, response_deserializer):
        self.wire, self.method = wire, method
        self.serialize, self.deserialize = request_serializer, response_deserializer

    def __call__(self, request, timeout=None, metadata=None, **kwargs):
        handler = self.wire.grpc.get(self.method)
        if handler is None:
            self.wire.block(f"gRPC {self.method}")
        payload = self.serialize(request)
        self.wire.calls.append({"kind": "grpc", "method": self.method, "bytes": payload, "metadata": metadata})
        return self.deserialize(handler(payload, metadata))

    def with_call(self, *args, **kwargs):
        self.wire.block(f"gRPC {self.method} (with_call)")

    def future(self, *args, **kwargs):
        self.wire.block(f"gRPC {self.method} (future)")


@pytest.fixture(autouse=True)
def wire(monkeypatch):
    import grpc._channel
    import requests
    import urllib3

    w = Wire()
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: w.block(f"socket connect {address}"))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, address: w.block(f"socket connect_ex {address}"))
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: w.block(f"DNS lookup {host}"))

    def unary_unary(self, method, request_serializer=None, response_deserializer=None, *args, **kwargs):
        return FakeUnaryUnary(w, method, request_serializer, response_deserializer)

    def other_grpc(self, method, *args, **kwargs):
        w.block(f"gRPC streaming {method}")

    monkeypatch.setattr(grpc._channel.Channel, "unary_unary", unary_unary)
    for kind in ("unary_stream", "stream_unary", "stream_stream"):
        monkeypatch.setattr(grpc._channel.Channel, kind, other_grpc)

    def session_request(self, method, url, params=None, data=None, **kwargs):
        status, payload = w.answer_http(method.upper(), url, data)
        response = requests.Response()
        response.status_code, response.url = status, url
        response._content = json.dumps(payload).encode()
        response.headers["content-type"] = "application/json"
        return response

    def urlopen(self, method, url, redirect=True, **kwargs):
        body = kwargs.get("body")
        status, payload = w.answer_http(method.upper(), url, json.loads(body) if body else None)
        return urllib3.HTTPResponse(
            body=io.BytesIO(json.dumps(payload).encode()),
            status=status,
            reason="OK" if status < 300 else "Forbidden",
            headers={"content-type": "application/json"},
            preload_content=True,
        )

    monkeypatch.setattr(requests.Session, "request", session_request)
    monkeypatch.setattr(urllib3.PoolManager, "urlopen", urlopen)
    yield w
    assert not w.blocked, f"the code under test tried to reach a network: {w.blocked}"


@pytest.fixture(autouse=True)
def kfp_settings_isolated(monkeypatch, tmp_path):
    """No KF_PIPELINES_* variable or ~/.config/kfp/context.json of this machine changes what kfp.Client does."""
    import kfp.client.client

    for name in ("KF_PIPELINES_ENDPOINT", "KF_PIPELINES_UI_ENDPOINT", "KF_PIPELINES_DEFAULT_EXPERIMENT_NAME",
                 "KF_PIPELINES_OVERRIDE_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(kfp.client.client.Client, "_LOCAL_KFP_CONTEXT", str(tmp_path / "no-kfp-context.json"))


@pytest.fixture
def no_clients(monkeypatch):
    """Dry runs must not build an API client nor look for credentials."""
    import google.auth
    import kfp
    from google.cloud.aiplatform import initializer

    def refuse(*args, **kwargs):
        raise AssertionError("a dry run created a client or looked up credentials")

    monkeypatch.setattr(google.auth, "default", refuse)
    monkeypatch.setattr(initializer._Config, "create_client", refuse)
    monkeypatch.setattr(kfp, "Client", refuse)


@pytest.fixture
def vertex_credentials(monkeypatch):
    """A fresh aiplatform configuration holding anonymous credentials (no ADC lookup), undone after the test."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.aiplatform import initializer

    config = initializer._Config()
    monkeypatch.setattr(initializer, "global_config", config)
    config.init(credentials=AnonymousCredentials())


# ---------------------------------------------------------------------------------------------------------------
# Dry runs


def test_vertex_dry_run_is_the_exact_request_and_touches_nothing(compiled, job, wire, no_clients):
    result = submit(compiled, "vertex", project=PROJECT, region=REGION, service_account=SERVICE_ACCOUNT, dry_run=True)

    assert (result.target, result.dry_run, result.job_name, result.url) == ("vertex", True, None, None)
    request = result.request
    assert request["method"] == "POST"
    assert request["endpoint"] == (
        f"https://{REGION}-aiplatform.googleapis.com/v1/projects/{PROJECT}/locations/{REGION}/pipelineJobs"
    )
    assert request["params"]["pipelineJobId"].startswith("taxi-")
    body = request["body"]
    assert body["displayName"] == job["displayName"] == "taxi"
    assert body["pipelineSpec"] == job["pipelineSpec"]  # caching left as compiled
    assert body["runtimeConfig"]["gcsOutputDirectory"] == "gs://b/root"
    assert body["serviceAccount"] == SERVICE_ACCOUNT
    assert body["labels"] == job["labels"]
    assert [step["endpoint"] for step in request["before"]] == ["https://storage.googleapis.com/storage/v1/b/b"]
    assert wire.calls == []

    lines = format_result(result)
    assert lines[0] == f"DRY RUN: would POST {request['endpoint']}?pipelineJobId={request['params']['pipelineJobId']}"
    assert any("abbreviated to its task names" in line for line in lines)
    shown = json.loads("\n".join(lines[next(i for i, line in enumerate(lines) if line == "{"):]))
    assert shown["pipelineSpec"]["root.dag.tasks"] == task_names(job["pipelineSpec"])
    assert shown["runtimeConfig"] == body["runtimeConfig"]
    assert len(lines) < 60  # readable: executors and component definitions are not printed


def test_kubeflow_dry_run_is_the_exact_request_and_touches_nothing(compiled, job, wire, no_clients):
    result = submit(compiled, "kubeflow", host=KFP_HOST + "/", namespace="team-a", experiment="taxi-exp", dry_run=True)

    request = result.request
    assert request["endpoint"] == f"{KFP_HOST}/apis/v2beta1/runs" and request["method"] == "POST"
    body = request["body"]
    assert body["pipeline_spec"] == job["pipelineSpec"]  # the bare PipelineSpec, not the Vertex PipelineJob
    assert "taxi-exp" in body["experiment_id"]
    assert body["display_name"].startswith("taxi ")
    assert body["runtime_config"]["pipeline_root"] == "gs://b/root"
    lookup, create = request["before"]  # a namespace is given: no healthz probe
    assert lookup["method"] == "GET" and lookup["endpoint"] == f"{KFP_HOST}/apis/v2beta1/experiments"
    assert "taxi-exp" in lookup["params"]["filter"] and lookup["params"]["namespace"] == "team-a"
    assert create["body"] == {"display_name": "taxi-exp", "namespace": "team-a"}
    assert wire.calls == []
    lines = format_result(result)
    assert lines[0] == f"DRY RUN: would POST {KFP_HOST}/apis/v2beta1/runs"


@pytest.mark.parametrize("target", ["vertex", "kubeflow"])
def test_no_cache_turns_caching_off_for_every_task_and_otherwise_keeps_the_compiled_settings(
    compiled, job, target, no_clients
):
    where = dict(project=PROJECT, region=REGION) if target == "vertex" else dict(host=KFP_HOST)
    key = "pipelineSpec" if target == "vertex" else "pipeline_spec"
    off = submit(compiled, target, no_cache=True, dry_run=True, **where).request["body"][key]
    kept = submit(compiled, target, dry_run=True, **where).request["body"][key]

    # Set on every task; kfp's proto round trip leaves `enableCache: false` out, as protobuf JSON drops defaults.
    assert all("cachingOptions" in t for t in off["root"]["dag"]["tasks"].values())
    assert {t["cachingOptions"].get("enableCache", False) for t in off["root"]["dag"]["tasks"].values()} == {False}
    # Resolvers are compiled without caching (a cached resolver would keep handing out a stale baseline), and a
    # run that wants caching must not switch it on for them.
    for resolver in RESOLVERS:
        assert "cachingOptions" not in kept["root"]["dag"]["tasks"][resolver]
    assert kept["root"]["dag"]["tasks"]["Trainer"]["cachingOptions"] == {"enableCache": True}


# ---------------------------------------------------------------------------------------------------------------
# Refusals, before any client exists


@pytest.mark.parametrize(
    "target, flags, expected",
    [
        ("vertex", dict(region=REGION), "--project and --region are required"),
        ("vertex", dict(project=PROJECT), "--project and --region are required"),
        ("vertex", dict(project=PROJECT, region="mars-north1"), "'mars-north1' is not a Vertex AI region"),
        ("kubeflow", dict(namespace="team-a"), "--host is required"),
        ("airflow", dict(), "--target must be one of vertex, kubeflow"),
    ],
)
def test_missing_or_wrong_flags_are_refused(compiled, wire, no_clients, target, flags, expected):
    with pytest.raises(SubmitError, match=expected):
        submit(compiled, target, **flags)
    assert wire.calls == []


@pytest.mark.parametrize("target", ["vertex", "kubeflow"])
def test_an_invalid_spec_is_refused_naming_the_problem(job, tmp_path, wire, no_clients, target):
    def local_root(changed):
        changed["runtimeConfig"]["gcsOutputDirectory"] = "/data/root"

    path = variant(job, tmp_path, local_root)
    with pytest.raises(SubmitError) as raised:
        submit(path, target, project=PROJECT, region=REGION, host=KFP_HOST)
    message = str(raised.value)
    assert "\n" not in message
    assert f"{path} is not fit to submit to {target}: " in message
    assert "pipeline root '/data/root' is not remote" in message
    assert "; " in message  # every finding, joined (the local absolute path is reported too)


def test_a_parameter_without_a_value_is_refused(job, tmp_path, wire, no_clients):
    def unset(changed):
        changed["pipelineSpec"]["root"]["inputDefinitions"]["parameters"]["train-steps"] = {"type": "INT"}

    with pytest.raises(SubmitError, match="pipeline parameter.*train-steps.*neither a value"):
        submit(variant(job, tmp_path, unset), "vertex", project=PROJECT, region=REGION, dry_run=True)


def test_an_unreadable_file_is_refused(tmp_path, wire):
    with pytest.raises(SubmitError, match="not a readable JSON PipelineJob"):
        submit(tmp_path / "missing.json", "vertex", project=PROJECT, region=REGION)


# ---------------------------------------------------------------------------------------------------------------
# Vertex AI: aiplatform.PipelineJob(...).submit() up to the gRPC channel


def test_vertex_submit_sends_the_dry_run_request_over_grpc(compiled, job, wire, vertex_credentials):
    from google.cloud.aiplatform_v1.types import CreatePipelineJobRequest, PipelineJob, PipelineState
    from google.protobuf import json_format

    def create_pipeline_job(payload: bytes, metadata) -> bytes:
        request = CreatePipelineJobRequest.deserialize(payload)
        response = PipelineJob(
            name=FAKE_JOB_NAME,
            display_name=request.pipeline_job.display_name,
            state=PipelineState.PIPELINE_STATE_PENDING,
        )
        return PipelineJob.serialize(response)

    wire.grpc[CREATE_PIPELINE_JOB] = create_pipeline_job
    wire.http.append(("GET", "https://storage.googleapis.com/storage/v1/b/b?", lambda *a: (200, {"name": "b"})))

    result = submit(compiled, "vertex", project=PROJECT, region=REGION, service_account=SERVICE_ACCOUNT)

    bucket_check, create = wire.calls
    assert bucket_check["url"].startswith("https://storage.googleapis.com/storage/v1/b/b?")
    assert create["method"] == CREATE_PIPELINE_JOB
    sent = CreatePipelineJobRequest.deserialize(create["bytes"])
    assert sent.parent == f"projects/{PROJECT}/locations/{REGION}"
    assert ("x-goog-request-params", f"parent=projects/{PROJECT}/locations/{REGION}") in create["metadata"]
    assert sent.pipeline_job_id == result.request["params"]["pipelineJobId"]
    pipeline_job = sent.pipeline_job
    assert pipeline_job.display_name == "taxi"
    assert sorted(pipeline_job.pipeline_spec["root"]["dag"]["tasks"]) == task_names(job["pipelineSpec"])
    assert pipeline_job.runtime_config.gcs_output_directory == "gs://b/root"
    assert pipeline_job.service_account == SERVICE_ACCOUNT
    assert dict(pipeline_job.labels) == job["labels"]
    # What went over the wire is what the dry run shows.
    assert json_format.MessageToDict(PipelineJob.pb(pipeline_job)) == result.request["body"]

    assert result == SubmitResult(
        target="vertex",
        dry_run=False,
        job_name=FAKE_JOB_NAME,
        url="https://console.cloud.google.com/vertex-ai/locations/us-central1/pipelines/runs/tfx-e2e-123?project=p",
        request=result.request,
    )
    assert format_result(result) == [
        f"submitted    {FAKE_JOB_NAME}  (Vertex AI Pipelines)",
        f"console      {result.url}",
    ]


# ---------------------------------------------------------------------------------------------------------------
# Kubeflow Pipelines: kfp.Client up to urllib3


class FakeKfp:
    """The few v2beta1 endpoints kfp.Client uses to start a run, answering in the API's JSON."""

    def __init__(self, experiments=(), run_status=200):
        self.experiments = {name: f"exp-{i}" for i, name in enumerate(experiments, 1)}
        self.run_status = run_status

    def install(self, wire: Wire):
        api = f"{KFP_HOST}/apis/v2beta1"
        wire.http += [
            ("GET", f"{api}/healthz", lambda *a: (200, {"multi_user": False})),
            ("GET", f"{api}/experiments", self.list_experiments),
            ("POST", f"{api}/experiments", self.create_experiment),
            ("POST", f"{api}/runs", self.create_run),
        ]

    def list_experiments(self, method, url, body):
        wanted = json.loads(parse_qs(urlsplit(url).query)["filter"][0])["predicates"][0]["stringValue"]
        found = [{"experiment_id": i, "display_name": n} for n, i in self.experiments.items() if n == wanted]
        return 200, ({"experiments": found, "total_size": len(found)} if found else {})

    def create_experiment(self, method, url, body):
        self.experiments[body["display_name"]] = experiment_id = "exp-new"
        return 200, {"experiment_id": experiment_id, **body}

    def create_run(self, method, url, body):
        if self.run_status != 200:
            return self.run_status, {"error": "permission denied on namespace team-a", "code": 7}
        return 200, {"run_id": "run-7f3c", "state": "PENDING", **body}


@pytest.mark.parametrize(
    "namespace, existing, expected_calls",
    [
        ("team-a", (), ["GET experiments", "POST experiments", "POST runs"]),
        (None, ("taxi-exp",), ["GET healthz", "GET experiments", "POST runs"]),
    ],
)
def test_kubeflow_submit_sends_the_dry_run_request_over_http(compiled, job, wire, namespace, existing,
                                                            expected_calls):
    FakeKfp(experiments=existing).install(wire)

    result = submit(compiled, "kubeflow", host=KFP_HOST, namespace=namespace, experiment="taxi-exp")

    calls = [f"{c['method']} {urlsplit(c['url']).path.rsplit('/', 1)[-1]}" for c in wire.calls]
    assert calls == expected_calls
    if namespace:
        assert parse_qs(urlsplit(wire.calls[0]["url"]).query)["namespace"] == [namespace]
        assert wire.calls[1]["body"] == {"display_name": "taxi-exp", "namespace": namespace}
    run = wire.calls[-1]["body"]
    assert run["experiment_id"] == ("exp-new" if namespace else "exp-1")
    assert run["pipeline_spec"] == job["pipelineSpec"]
    assert task_names(run["pipeline_spec"]) == task_names(job["pipelineSpec"])
    assert run["runtime_config"]["pipeline_root"] == "gs://b/root"
    # What went over the wire is what the dry run shows, but for the experiment id the lookup resolved.
    assert {k: v for k, v in run.items() if k != "experiment_id"} == {
        k: v for k, v in result.request["body"].items() if k != "experiment_id"
    }
    assert (result.job_name, result.url) == ("run-7f3c", f"{KFP_HOST}/#/runs/details/run-7f3c")
    assert format_result(result)[0] == "submitted    run-7f3c  (Kubeflow Pipelines)"


def test_kubeflow_refusal_is_one_line(compiled, wire):
    FakeKfp(experiments=("Default",), run_status=403).install(wire)
    with pytest.raises(SubmitError, match=r"Kubeflow Pipelines at http://kfp.example:8080 answered 403 Forbidden: .*"
                                          r"permission denied") as raised:
        submit(compiled, "kubeflow", host=KFP_HOST, namespace="team-a")
    assert "\n" not in str(raised.value)


# ---------------------------------------------------------------------------------------------------------------
# kubeflow/submit/vertex.py does itself what aiplatform (1.70.0) keeps private: compared with aiplatform's own code


def _answer_create_pipeline_job(payload: bytes, metadata) -> bytes:
    from google.cloud.aiplatform_v1.types import CreatePipelineJobRequest, PipelineJob, PipelineState

    request = CreatePipelineJobRequest.deserialize(payload)
    return PipelineJob.serialize(PipelineJob(name=FAKE_JOB_NAME, display_name=request.pipeline_job.display_name,
                                             state=PipelineState.PIPELINE_STATE_PENDING))


def test_vertex_submit_with_no_cache_sends_the_dry_run_request_over_grpc(compiled, job, wire, vertex_credentials):
    """aiplatform.PipelineJob(enable_caching=False) and its runtime config, against vertex.body's own."""
    from google.cloud.aiplatform_v1.types import CreatePipelineJobRequest, PipelineJob
    from google.protobuf import json_format

    wire.grpc[CREATE_PIPELINE_JOB] = _answer_create_pipeline_job
    wire.http.append(("GET", "https://storage.googleapis.com/storage/v1/b/b?", lambda *a: (200, {"name": "b"})))

    result = submit(compiled, "vertex", project=PROJECT, region=REGION, no_cache=True)

    sent = CreatePipelineJobRequest.deserialize(wire.calls[-1]["bytes"]).pipeline_job
    assert json_format.MessageToDict(PipelineJob.pb(sent)) == result.request["body"]
    tasks = result.request["body"]["pipelineSpec"]["root"]["dag"]["tasks"]
    assert {json.dumps(t["cachingOptions"]) for t in tasks.values()} == {'{"enableCache": false}'}


@pytest.mark.parametrize("enable", [True, False])
def test_set_caching_does_what_aiplatform_does(job, enable):
    from google.cloud.aiplatform import pipeline_jobs

    from kubeflow.submit import vertex

    spec = copy.deepcopy(job["pipelineSpec"])
    # A component with a DAG of its own (a KFP sub-pipeline; TFX compiles none, aiplatform sets those tasks too).
    spec["components"]["comp-inner"] = {
        "dag": {"tasks": {"inner": {"componentRef": {"name": "Trainer"}, "cachingOptions": {"enableCache": not enable}}}}}
    ours, theirs = copy.deepcopy(spec), copy.deepcopy(spec)
    vertex.set_caching(ours, enable)
    pipeline_jobs._set_enable_caching_value(theirs, enable)  # aiplatform's private helper, the reference

    assert ours == theirs
    assert ours["components"]["comp-inner"]["dag"]["tasks"]["inner"]["cachingOptions"] == {"enableCache": enable}
    assert {json.dumps(t["cachingOptions"]) for t in ours["root"]["dag"]["tasks"].values()} == {
        json.dumps({"enableCache": enable})}


def test_runtime_config_is_the_one_aiplatform_builds(compiled, job, wire, vertex_credentials):
    from google.cloud import aiplatform
    from google.cloud.aiplatform_v1.types import pipeline_job as gca_pipeline_job

    from kubeflow.submit import vertex

    theirs = aiplatform.PipelineJob(display_name="taxi", template_path=str(compiled), pipeline_root="gs://b/root",
                                    project=PROJECT, location=REGION)
    ours = vertex.runtime_config(job)
    assert ours == gca_pipeline_job.PipelineJob.RuntimeConfig.pb(theirs.runtime_config)
    assert ours.gcs_output_directory == "gs://b/root" and ours.parameters["data-root"].string_value == DATA
    assert wire.calls == []


def test_console_url_is_the_one_aiplatform_logs():
    import types

    from google.cloud import aiplatform

    from kubeflow.submit import vertex

    # aiplatform's private PipelineJob._dashboard_uri, the reference, run on a stand-in holding the resource name.
    stand_in = types.SimpleNamespace(resource_name=FAKE_JOB_NAME,
                                     _parse_resource_name=aiplatform.PipelineJob._parse_resource_name)
    expected = aiplatform.PipelineJob._dashboard_uri(stand_in)
    assert vertex.console_url(FAKE_JOB_NAME, "another-project", "europe-west4") == expected
    assert expected == f"https://console.cloud.google.com/vertex-ai/locations/{REGION}/pipelines/runs/tfx-e2e-123?project={PROJECT}"
