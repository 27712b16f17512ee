"""TensorFlow-free reading of TFX's output files: TFRecord files, and generated message classes of packages whose
`__init__` loads TensorFlow (TFMA: 5-13 s; TensorFlow's own protos: 3 s), built from their `*_pb2.py` sources in a
private descriptor pool. The readers of ML Metadata and of TFX's outputs (the CLI's inspect commands, the run
report, the UI) use it so that reading a run never imports TensorFlow.

It relies on how protoc's Python generator writes a `*_pb2.py` (one `AddSerializedFile(b"...")` call holding the
serialized FileDescriptorProto, and `from ... import x_pb2` lines for its dependencies): checked against the
generated code installed with TFMA 0.47.1, TensorFlow 2.16.2 and tensorflow-serving-api 2.16.1 (protobuf 3.20.3);
tests/unit/test_proto_io.py compares every class used, and the parsed TFMA results, with the packages' own and fails
loudly when an upgrade changes either.

The classes are not the packages' own (a private pool: the default pool and sys.modules are left untouched, so a
later real `import tensorflow_model_analysis` works as usual); they parse the same bytes into the same fields.
"""

from __future__ import annotations

import ast
import glob
import importlib.util
import os
import struct
from functools import lru_cache
from typing import Iterator

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_LENGTH = struct.Struct("<Q")


def tfrecords(path: str) -> Iterator[bytes]:
    """The records of one uncompressed TFRecord file (length, its CRC, data, its CRC; CRCs are not checked)."""
    if "://" in path:  # gs:// and friends: TensorFlow's file system is the only reader
        import tensorflow as tf

        yield from (r.numpy() for r in tf.data.TFRecordDataset(path))
        return
    with open(path, "rb") as f:
        while True:
            head = f.read(12)
            if len(head) < 12:
                return
            (length,) = _LENGTH.unpack(head[:8])
            data = f.read(length)
            f.read(4)
            if len(data) < length:
                raise ValueError(f"{path}: truncated TFRecord")
            yield data


def _source_path(module: str) -> str:
    """The file of a module, found without importing its package."""
    top, _, rest = module.partition(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(module)
    return os.path.join(list(spec.submodule_search_locations)[0], *rest.split(".")) + ".py"


def _serialized_file(module: str) -> tuple[bytes, list[str]]:
    """(the module's serialized FileDescriptorProto, the generated modules it imports)."""
    with open(_source_path(module), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    data, deps = None, []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name.endswith("_pb2") for a in node.names):
            deps += [f"{node.module}.{a.name}" for a in node.names if a.name.endswith("_pb2")]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "AddSerializedFile" and node.args):
            data = ast.literal_eval(node.args[0])
    if data is None:
        raise ValueError(f"{module}: no serialized descriptor found")
    return data, deps


@lru_cache(maxsize=None)
def _pool_with(module: str) -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()

    def add(name: str) -> None:
        if name in added:
            return
        added.add(name)
        if name.startswith("google.protobuf."):  # protobuf's own: importable at no cost
            proto = importlib.import_module(name).DESCRIPTOR.serialized_pb
            pool.Add(descriptor_pb2.FileDescriptorProto.FromString(proto))
            return
        data, deps = _serialized_file(name)
        for dep in deps:
            add(dep)
        pool.Add(descriptor_pb2.FileDescriptorProto.FromString(data))

    add(module)
    return pool


@lru_cache(maxsize=None)
def message_class(module: str, full_name: str):
    """The message class `full_name` (e.g. tensorflow_model_analysis.PlotsForSlice) defined by generated module
    `module` (e.g. tensorflow_model_analysis.proto.metrics_for_slice_pb2)."""
    pool = _pool_with(module)
    return message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName(full_name))


TFMA_RESULTS = "tensorflow_model_analysis.proto.metrics_for_slice_pb2"


def is_local(path: str) -> bool:
    return "://" not in path


def glob_files(pattern_dir: str, pattern: str) -> list[str]:
    """Files matching `pattern` in a directory: os for local paths, TensorFlow's file systems for gs:// and co."""
    if is_local(pattern_dir):
        return sorted(glob.glob(os.path.join(glob.escape(pattern_dir), pattern)))
    import tensorflow as tf

    return sorted(tf.io.gfile.glob(os.path.join(pattern_dir, pattern)))


def open_file(path: str, mode: str = "rb"):
    if is_local(path):
        return open(path, mode)  # pylint: disable=consider-using-with,unspecified-encoding
    import tensorflow as tf

    return tf.io.gfile.GFile(path, mode)


def tfma_records(evaluation_uri: str, prefix: str, message: str, module: str = TFMA_RESULTS) -> list:
    """Every record of the evaluation's `<prefix>*` files (metrics, plots, validations) as `message`
    (MetricsForSlice, PlotsForSlice, ValidationResult); [] when there is no such file."""
    cls = message_class(module, f"tensorflow_model_analysis.{message}")
    out = []
    for path in glob_files(evaluation_uri, f"{prefix}*"):
        out += [cls.FromString(r) for r in tfrecords(path)]
    return out
