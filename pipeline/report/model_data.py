"""The report's Data section: rows per split and per-feature statistics from the StatisticsGen artifact (TFMD
FeatureNameStatistics protos, not recomputed), the anomalies ExampleValidator found, and the schema's expectation."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from pipeline.dag import node_ids
from pipeline.metadata import statistics
from pipeline.metadata.runs import NodeExecution
from pipeline.report.problems import output, problem

TOP_VALUES = 10  # bars per string feature
SCHEMA_FILE = "schema.pbtxt"  # what SchemaGen and ImportSchemaGen write in their artifact


@dataclass
class SplitStats:
    """One feature in one split."""

    kind: str  # number | string | other
    examples: int = 0
    missing: int = 0  # examples without a value (absent or empty)
    mean: Optional[float] = None
    std: Optional[float] = None
    min: Optional[float] = None
    median: Optional[float] = None
    max: Optional[float] = None
    zeros: Optional[int] = None
    histogram: list[tuple[float, float, float]] = field(default_factory=list)
    unique: Optional[int] = None
    top: list[tuple[str, float]] = field(default_factory=list)  # (value, count), most frequent first
    avg_length: Optional[float] = None

    @property
    def missing_pct(self) -> float:
        return 100.0 * self.missing / self.examples if self.examples else 0.0


@dataclass
class Feature:
    name: str
    type: str  # INT | FLOAT | STRING | BYTES | STRUCT
    splits: dict[str, SplitStats] = field(default_factory=dict)
    expectation: str = ""  # what the schema says about it
    anomalies: list[Any] = field(default_factory=list)  # components.anomalies_gate.schema_diff.Finding


@dataclass
class DataView:
    statistics_uri: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    features: list[Feature] = field(default_factory=list)
    anomalies: list[Any] = field(default_factory=list)  # every Finding, dataset-level ones included
    anomalies_checked: bool = False  # ExampleValidator ran (an empty list then means: no anomaly)
    schema_uri: str = ""
    problems: list[str] = field(default_factory=list)


def load_statistics(uri: str) -> dict[str, Any]:
    """{split: DatasetFeatureStatistics or None}: StatisticsGen's FeatureStats.pb per Split-<name> directory.
    Local artifacts are parsed with the TFMD proto directly (no TensorFlow import); others through
    pipeline.metadata.statistics (TFDV, TFX's file systems)."""
    from components.anomalies_gate.schema_diff import SPLIT_PREFIX

    if "://" in uri:
        return statistics.load(uri)
    from tensorflow_metadata.proto.v0 import statistics_pb2

    if not os.path.isdir(uri):
        raise FileNotFoundError(2, "statistics directory missing", uri)
    out = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(uri), SPLIT_PREFIX + "*"))):
        with open(os.path.join(path, statistics.STATS_FILE), "rb") as f:
            stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(f.read())
        out[os.path.basename(path)[len(SPLIT_PREFIX):]] = stats.datasets[0] if stats.datasets else None
    return out


def _split_stats(f: Any, examples: int) -> SplitStats:
    kind = f.WhichOneof("stats")
    stats = getattr(f, kind) if kind else None
    common = stats.common_stats if stats is not None and hasattr(stats, "common_stats") else None
    out = SplitStats("number" if kind == "num_stats" else "string" if kind == "string_stats" else "other", examples)
    if common is not None:
        # An empty CSV cell is a present feature with no value: count it as missing too.
        empty = common.num_non_missing - common.tot_num_values if common.max_num_values <= 1 else 0
        out.missing = int(common.num_missing + max(empty, 0))
        out.examples = int(common.num_non_missing + common.num_missing) or examples
    if kind == "num_stats":
        n = f.num_stats
        out.mean, out.std, out.min, out.median, out.max = n.mean, n.std_dev, n.min, n.median, n.max
        out.zeros = int(n.num_zeros)
        standard = [h for h in n.histograms if h.type == h.STANDARD] or list(n.histograms[:1])
        if standard:
            out.histogram = [(b.low_value, b.high_value, b.sample_count) for b in standard[0].buckets]
    elif kind == "string_stats":
        s = f.string_stats
        out.unique, out.avg_length = int(s.unique), s.avg_length
        out.top = [(v.value, v.frequency) for v in s.top_values[:TOP_VALUES]]
    return out


def _type_name(f: Any) -> str:
    from tensorflow_metadata.proto.v0 import statistics_pb2

    return statistics_pb2.FeatureNameStatistics.Type.Name(f.type)


def _features(datasets: dict[str, Any]) -> list[Feature]:
    by_name: dict[str, Feature] = {}
    for split, dataset in datasets.items():
        if dataset is None:
            continue
        for f in dataset.features:
            name = ".".join(f.path.step) if f.path.step else f.name
            feature = by_name.setdefault(name, Feature(name, _type_name(f)))
            feature.splits[split] = _split_stats(f, int(dataset.num_examples))
    return [by_name[n] for n in sorted(by_name)]


def expectation(feature: Any, schema: Any) -> str:
    """A schema Feature's expectation in words: type, presence, values per example, domain."""
    from tensorflow_metadata.proto.v0 import schema_pb2

    parts = [schema_pb2.FeatureType.Name(feature.type)]
    if feature.HasField("presence"):
        p = feature.presence
        if p.min_fraction >= 1.0:
            parts.append("required in every example")
        elif p.min_fraction > 0:
            parts.append(f"present in at least {p.min_fraction:.0%} of examples")
        else:
            parts.append("optional")
    if feature.HasField("value_count"):
        vc = feature.value_count
        parts.append(f"{vc.min}..{vc.max} values" if vc.max else f"at least {vc.min} values")
    domain = feature.WhichOneof("domain_info")
    if domain == "domain":
        values = next((d.value for d in schema.string_domain if d.name == feature.domain), [])
        parts.append(_values_text(feature.domain, values))
    elif domain == "string_domain":
        parts.append(_values_text(feature.name, feature.string_domain.value))
    elif domain in ("int_domain", "float_domain"):
        d = getattr(feature, domain)
        if d.HasField("min") or d.HasField("max"):
            lo = f"{d.min:g}" if d.HasField("min") else "-∞"
            hi = f"{d.max:g}" if d.HasField("max") else "∞"
            parts.append(f"values in [{lo}, {hi}]")
    return ", ".join(parts)


def _values_text(name: str, values: Any) -> str:
    values = list(values)
    shown = ", ".join(values[:8]) + (f", … ({len(values)} values)" if len(values) > 8 else "")
    return f"one of {name}: {shown}"


def load_schema(uri: str) -> Any:
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    with open(os.path.join(uri, SCHEMA_FILE), encoding="utf-8") as f:
        return text_format.Parse(f.read(), schema_pb2.Schema())


def build(executions: dict[str, NodeExecution]) -> Optional[DataView]:
    """The Data section, or None when the run produced no statistics (it stopped before StatisticsGen)."""
    stats = output(executions, node_ids.STATISTICS_GEN, "statistics")
    if stats is None:
        return None
    view = DataView(statistics_uri=stats.uri)
    try:
        datasets = load_statistics(stats.uri)
        view.rows = {split: int(d.num_examples) if d else 0 for split, d in datasets.items()}
        view.features = _features(datasets)
    except Exception as err:  # pylint: disable=broad-except  # deleted or unreadable files: say so
        view.problems.append(f"statistics not readable: {problem(err)}")
    by_name = {f.name: f for f in view.features}
    schema_artifact = (output(executions, node_ids.IMPORT_SCHEMA_GEN, "schema")
                       or output(executions, node_ids.SCHEMA_GEN, "schema"))
    if schema_artifact is not None:
        view.schema_uri = schema_artifact.uri
        try:
            schema = load_schema(schema_artifact.uri)
            for feature in schema.feature:
                if feature.name in by_name:
                    by_name[feature.name].expectation = expectation(feature, schema)
        except Exception as err:  # pylint: disable=broad-except
            view.problems.append(f"schema not readable: {problem(err)}")
    anomalies = output(executions, node_ids.EXAMPLE_VALIDATOR, "anomalies")
    if anomalies is not None:
        try:
            from components.anomalies_gate.schema_diff import read_findings, split_dirs

            view.anomalies = read_findings(split_dirs(anomalies.uri))
            view.anomalies_checked = True
            for finding in view.anomalies:
                if finding.feature in by_name:
                    by_name[finding.feature].anomalies.append(finding)
        except Exception as err:  # pylint: disable=broad-except
            view.problems.append(f"anomalies not readable: {problem(err)}")
    return view
