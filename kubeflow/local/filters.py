"""The filter grammar of resolver tasks' artifact queries (`outputArtifactQueries[...].filter`): parse, match."""

from __future__ import annotations

import datetime
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

from kubeflow.local.errors import LocalRunError

STRING_FIELDS = ("schema_title", "state", "name", "uri", "display_name")
TIME_FIELDS = ("create_time", "update_time")
FIELDS = STRING_FIELDS + TIME_FIELDS
METADATA_KINDS = ("string_value", "number_value", "bool_value")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=")
SUPPORTED = (
    f"the local runner implements only comparisons joined by AND, on the fields {', '.join(FIELDS)}, "
    f"metadata.KEY.{'|'.join(METADATA_KINDS)} (KEY bare or double-quoted), with the operators {' '.join(OPERATORS)}"
)

Value = Union[str, float, bool]

_COMPARE: dict[str, Callable[[Any, Any], bool]] = dict(
    zip(OPERATORS, (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge))
)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_LITERAL = re.compile(r"[^\s()\"=<>!:{}]+")  # an unquoted value, read whole before it is classified
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def _rfc3339(text: str) -> datetime.datetime | None:
    """The instant an RFC 3339 timestamp names (any offset, any fraction digits), None when it is not one."""
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    micros = int((m.group(7) or "0")[:6].ljust(6, "0"))
    offset = datetime.timedelta(0)
    if m.group(9):
        offset = datetime.timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        offset = -offset if m.group(9) == "-" else offset
    try:
        return datetime.datetime(year, month, day, hour, minute, second, micros, tzinfo=datetime.timezone(offset))
    except ValueError:
        return None


def _quote(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1], flags=re.DOTALL)


def _wildcard_equal(actual: str, pattern: str) -> bool:
    """Vertex's string equality: `*` in the filter's value matches any run of characters."""
    if "*" not in pattern:
        return actual == pattern
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), actual, re.DOTALL) is not None


@dataclass(frozen=True)
class Condition:
    """One comparison: `field` is `state`, ... or `metadata.KEY.KIND` (KEY double-quoted when not a bare word)."""

    field: str
    op: str
    value: Value

    @property
    def kind(self) -> str | None:
        """string_value / number_value / bool_value for a metadata field, else None."""
        return self.field.rpartition(".")[2] if self.field.startswith("metadata.") else None

    @property
    def metadata_key(self) -> str | None:
        if self.kind is None:
            return None
        key = self.field[len("metadata.") : -len(self.kind) - 1]
        return _unquote(key) if key.startswith('"') else key

    def matches(self, record: Mapping[str, Any]) -> bool:
        if self.kind is None:
            actual = record.get(self.field)
            if not isinstance(actual, str):
                return False
            if self.field in TIME_FIELDS:
                instant = _rfc3339(actual)
                return instant is not None and _COMPARE[self.op](instant, _rfc3339(str(self.value)))
            return self._compare_strings(actual)
        metadata = record.get("metadata")
        if not isinstance(metadata, Mapping) or self.metadata_key not in metadata:
            return False
        actual = metadata[self.metadata_key]
        if self.kind == "string_value":
            return isinstance(actual, str) and self._compare_strings(actual)
        if self.kind == "bool_value":
            return isinstance(actual, bool) and _COMPARE[self.op](actual, self.value)
        number = isinstance(actual, (int, float)) and not isinstance(actual, bool)
        return number and _COMPARE[self.op](float(actual), self.value)

    def _compare_strings(self, actual: str) -> bool:
        if self.op == "=":
            return _wildcard_equal(actual, str(self.value))
        if self.op == "!=":
            return not _wildcard_equal(actual, str(self.value))
        return _COMPARE[self.op](actual, self.value)


@dataclass(frozen=True)
class Filter:
    """A parsed filter: every condition must hold (they are joined by AND)."""

    text: str
    conditions: tuple[Condition, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(condition.matches(record) for condition in self.conditions)


def parse(text: str) -> Filter:
    """The filter `text`, or LocalRunError naming the construct outside the supported subset and where it is."""
    if not isinstance(text, str):
        raise LocalRunError(f"resolver filter must be a string, got {type(text).__name__}; {SUPPORTED}")
    return Filter(text, _Parser(text).conditions())


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, what: str, pos: int | None = None) -> LocalRunError:
        where = self.pos if pos is None else pos
        return LocalRunError(
            f"resolver filter: cannot take {what} at character {where + 1} of {self.text!r}; {SUPPORTED}"
        )

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def word(self) -> str | None:
        m = _WORD.match(self.text, self.pos)
        return m.group() if m else None

    def conditions(self) -> tuple[Condition, ...]:
        placeholder = self.text.find("{{")
        if placeholder >= 0:
            end = self.text.find("}}", placeholder)
            shown = self.text[placeholder : end + 2] if end >= 0 else self.text[placeholder:]
            raise self.fail(f"the unresolved placeholder {shown} (substitute it before parsing)", placeholder)
        self.skip_spaces()
        if self.pos == len(self.text):
            raise self.fail("an empty filter")
        found = [self.comparison()]
        while True:
            self.skip_spaces()
            if self.pos == len(self.text):
                return tuple(found)
            if self.peek() in ("(", ")"):
                raise self.fail(f"parentheses '{self.peek()}'")
            if self.peek() == ":":
                raise self.fail("the has-operator ':'")
            word = self.word()
            if word in ("OR", "NOT"):
                raise self.fail(word)
            if word != "AND":
                raise self.fail(f"{(word or self.peek())!r} where AND or the end of the filter belongs")
            and_at = self.pos
            self.pos += 3
            self.skip_spaces()
            if self.pos == len(self.text):
                raise self.fail("a dangling AND with no comparison after it", and_at)
            found.append(self.comparison())

    def comparison(self) -> Condition:
        field = self.field()
        self.skip_spaces()
        if self.peek() == ":":
            raise self.fail("the has-operator ':'")
        op = next((o for o in ("<=", ">=", "!=", "=", "<", ">") if self.peek(len(o)) == o), None)
        if op is None:
            found = repr(self.peek()) if self.peek() else "the end of the filter"
            raise self.fail(f"{found} where an operator ({' '.join(OPERATORS)}) after {field} belongs")
        self.pos += len(op)
        self.skip_spaces()
        value_at = self.pos
        quoted, raw = self.literal(field, op)
        return Condition(field, op, self.typed(field, op, quoted, raw, value_at))

    def field(self) -> str:
        start, char = self.pos, self.peek()
        if char in ("(", ")"):
            raise self.fail(f"parentheses '{char}'")
        if char == "-":
            raise self.fail("negation with a leading '-'")
        word = self.word()
        if word is None:
            raise self.fail(f"{char!r} where a field name belongs")
        if word in ("OR", "NOT", "AND"):
            raise self.fail(word if word != "AND" else "AND with no comparison before it")
        self.pos += len(word)
        if self.peek() == "(":
            raise self.fail(f"the function call {word}(...)", start)
        if word == "metadata" and self.peek() == ".":
            self.pos += 1
            if self.peek() == '"':
                key = _unquote(self.quoted_string())
            else:
                m = _BARE_KEY.match(self.text, self.pos)
                if not m:
                    raise self.fail(f"{self.peek()!r} where a metadata key belongs")
                key = m.group()
                self.pos = m.end()
            kind = None
            if self.peek() == ".":
                self.pos += 1
                kind = self.word()
            if kind not in METADATA_KINDS or self.text.startswith(".", self.pos + len(kind)):
                shown = self.text[start : self.pos + len(kind or "")]
                raise self.fail(f"the field {shown} (metadata.KEY needs one of {', '.join(METADATA_KINDS)})", start)
            self.pos += len(kind)
            return f"metadata.{key if _BARE_KEY.fullmatch(key) else _quote(key)}.{kind}"
        if word not in FIELDS or self.peek() == ".":
            end = self.pos
            while end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "._"):
                end += 1
            raise self.fail(f"the field {self.text[start:end]}", start)
        return word

    def quoted_string(self) -> str:
        """The double-quoted string at pos, quotes and escapes as written."""
        start = self.pos
        i = start + 1
        while i < len(self.text):
            if self.text[i] == "\\":
                i += 2
                continue
            if self.text[i] == '"':
                self.pos = i + 1
                return self.text[start : self.pos]
            i += 1
        raise self.fail("an unterminated string", start)

    def literal(self, field: str, op: str) -> tuple[bool, str]:
        """(quoted?, text) of the value at pos: a quoted string's content unescaped, else the bare token."""
        char = self.peek()
        if not char:
            raise self.fail(f"the end of the filter where the value of {field}{op} belongs")
        if char == '"':
            return True, _unquote(self.quoted_string())
        if char in ("(", ")"):
            raise self.fail(f"parentheses '{char}'")
        m = _LITERAL.match(self.text, self.pos)
        if not m:
            raise self.fail(f"{char!r} where the value of {field}{op} belongs")
        self.pos = m.end()
        return False, m.group()

    def typed(self, field: str, op: str, quoted: bool, raw: str, at: int) -> Value:
        """The value as the field compares it, refusing a literal that does not fit the field."""
        number = not quoted and _NUMBER.fullmatch(raw) is not None
        boolean = not quoted and raw in ("true", "false")
        shown = self.text[at : self.pos]  # as written, quotes included
        if not (quoted or number or boolean or _WORD.fullmatch(raw)):
            raise self.fail(f"the value {shown} (quote it, or write a number, true, false or a bare word)", at)
        if field.endswith(".number_value"):
            if not number:
                raise self.fail(f"the value {shown} for {field}, which compares with a number", at)
            return float(raw)
        if field.endswith(".bool_value"):
            if not boolean:
                raise self.fail(f"the value {shown} for {field}, which compares with true or false", at)
            if op not in ("=", "!="):
                raise self.fail(f"the operator {op} on {field} (true/false take only = and !=)", at)
            return raw == "true"
        if field in TIME_FIELDS and _rfc3339(raw) is None:
            raise self.fail(f"the value {shown} for {field}, which needs an RFC 3339 time (2024-05-01T12:00:00Z)", at)
        return raw
