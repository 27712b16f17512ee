"""Pre-flight checks of a CSV input directory against a config and its schema, before any component runs.

Everything here is plain Python (csv, and the schema proto from tensorflow_metadata): it runs before TensorFlow is
imported and before the metadata store or the home directory is touched, so a bad input costs about a second and
changes nothing. Every problem is a DataError with a one-line message naming the file, and the column and row when
known, and what to do; `tfx-e2e` prints it and exits 2.

Checked, in order: the directory (missing, empty, sub-directories); each file (binary or not UTF-8, JSON instead of
CSV, no header or a header CsvExampleGen would misread, rows with the wrong number of fields, a header but no rows);
the columns (label inputs, columns the config names, columns the schema requires); the values (every INT/FLOAT
column parses as its schema type, NaN/Inf where the schema forbids them, empty cells where the schema requires a
value in every row); the label column for the task (label_checks: binary, multiclass, regression values, rows
without a label). Unseen categories and distribution problems are ExampleValidator's job (then the AnomaliesGate).
"""


from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pipeline.config.schema import ConfigError, PipelineConfig
from pipeline.data.csv_format import DataError, read_dir
from pipeline.data.label_checks import LabelFacts, check_label
from pipeline.data.schema_rules import check_values, schema_rules
from pipeline.paths import PROJECT_ROOT


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class DataFacts:
    """What the pre-flight learned: the CSV columns, and the label column's facts (None: no label column to read)."""

    columns: list[str]
    label: Optional[LabelFacts] = None


def check_data(cfg: PipelineConfig) -> DataFacts:
    """Checks files, columns, values and the label (see the module docstring); a DataError for the first problem."""
    if cfg.example_gen != "csv":
        return DataFacts([])  # built-in data sets (digits) have no CSV to check
    try:
        data_dir = cfg.data_dir
    except ConfigError as err:
        raise DataError(str(err)) from None
    sources = read_dir(data_dir)
    first = sources[0].path
    columns = sources[0].header
    present = set(columns)
    for column in cfg.label.raw_columns:
        if column not in present:
            raise DataError(
                f"label column {column!r} is not in {first} (columns: {', '.join(columns)}); "
                "fix label in the config or pass the right --data."
            )
    named = {
        "features.include": cfg.features.include or (),
        "features.exclude": cfg.features.exclude,
        "features.categorical": cfg.features.categorical,
        "features.bucketize": tuple(cfg.features.bucketize),
        "evaluation.slices": cfg.evaluation.slices,
    }
    for key, names in named.items():
        missing = [n for n in names if n not in present]
        if missing:
            raise DataError(f"{key} names {missing}, not columns of {first}; columns are: {', '.join(columns)}.")
    if cfg.schema_path is None:  # SchemaGen infers the schema from this data: nothing more to hold it against
        return DataFacts(columns, check_label(cfg, sources))
    rules = schema_rules(cfg.schema_path)
    for rule in rules:
        if rule.required and rule.name not in present:
            raise DataError(
                f"{first}: column {rule.name!r} is missing, but the schema {_shown(cfg.schema_path)} requires it "
                f"({rule.why_required}); add the column or pass the right --data (columns: {', '.join(columns)})."
            )
    for source in sources:
        check_values(source, rules)
    declared = next((rule.kind for rule in rules if rule.name == cfg.label.column), None)
    return DataFacts(columns, check_label(cfg, sources, declared))
