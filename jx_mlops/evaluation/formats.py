"""Every data file jx-mlops reads, parsed by its extension: metrics and params (JSON, YAML,
TOML), plot records (JSON, YAML, CSV, TSV) and per-sample predictions (CSV, TSV).

Adding a format is a change to this module only; callers pass a name and bytes and get
plain values back, or a ValueError whose message a user can act on.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jx_mlops.compare.significance import Predictions
from jx_mlops.compare.values import flatten
from jx_mlops.yamlio import json_loads, load_as_dvc

if TYPE_CHECKING:
    from jx_mlops.compare.significance import FloatArray


class NotText(ValueError):
    """A file that is not UTF-8 text (an image in a metrics directory): DVC cannot read it
    either, and leaves it out of ``dvc metrics diff`` with a warning."""


def _python_params(text: str, name: str) -> Any:
    """A ``.py`` params file as DVC reads it (module constants, class attributes)."""
    from dvc.utils.serialize import ParseError, parse_py

    try:
        return parse_py(text, name)
    except ParseError as exc:
        raise ValueError(f"not valid Python: {exc}") from None


def _toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    raise ValueError("TOML files need Python 3.11 or newer")


def _parse(lower: str, text: str, name: str) -> Any:
    if lower.endswith(".json"):
        return json_loads(text)
    if lower.endswith(".toml"):
        return _toml(text)
    if lower.endswith(".py"):
        return _python_params(text, name)
    return load_as_dvc(text)


def load_structured(name: str, data: bytes) -> Any:
    """Parse metrics/params file contents as DVC does (``dvc.utils.serialize.LOADERS``):
    ``.json``, ``.toml``, ``.py``, and everything else as YAML 1.2 (so a CSV or text file
    is one string).

    Raises ValueError with a reason a user can act on (NotText for a binary file).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                      "save it as UTF-8)") from None
    lower = name.lower()
    try:
        return _parse(lower, text, name)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {str(exc).splitlines()[0]}") from None
    except ValueError as exc:
        if lower.endswith((".json", ".py")):
            raise
        if lower.endswith(".toml"):
            raise ValueError(f"cannot parse: {exc}") from None
        raise ValueError(f"not valid YAML: {exc}") from None
    except Exception as exc:  # tomllib.TOMLDecodeError and friends
        raise ValueError(f"cannot parse: {exc}") from None


def read_values(name: str, data: bytes, what: str = "params") -> dict[str, Any]:
    """A metrics or params file as DVC shows it: nested keys flattened to ``a.b.c``.

    A metrics file holding one value (text, a number: a CSV read as YAML) is that value
    under the key ``""``, as in ``dvc metrics diff``. Raises ValueError when it does not
    parse, or is not a mapping of ``what``.
    """
    parsed = load_structured(name, data)
    if what == "metrics" and isinstance(parsed, (str, int, float)) and parsed != "":
        return {"": parsed}
    if not isinstance(parsed, dict):
        got = "nothing" if parsed is None else type(parsed).__name__
        raise ValueError(f"expected a mapping of {what}, got {got}")
    return flatten(parsed)


def load_records(name: str, data: bytes) -> list[dict[str, Any]]:
    """Plot data as a list of records: JSON/YAML lists (or one list under a key), CSV/TSV."""
    text = data.decode("utf-8", errors="replace")
    lower = name.lower()
    if lower.endswith((".csv", ".tsv")):
        dialect = "excel-tab" if lower.endswith(".tsv") else "excel"
        return list(csv.DictReader(io.StringIO(text), dialect=dialect))
    parsed = json_loads(text) if lower.endswith(".json") else load_as_dvc(text)
    if isinstance(parsed, dict):
        parsed = next((v for v in parsed.values() if isinstance(v, list)), [])
    return [r for r in parsed if isinstance(r, dict)] if isinstance(parsed, list) else []


def _csv_rows(data: bytes, where: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV (or TSV, told by its first line's tabs)."""
    text = data.decode("utf-8-sig", errors="replace")
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    reader = csv.reader(io.StringIO(text), dialect=dialect)
    header = next(reader, None) or []
    return header, [row for row in reader if row]


def _pick(header: list[str], rows: list[list[str]], names: Sequence[str], where: str,
          what: str) -> dict[str, list[str]]:
    """The columns ``names`` as lists of text; ValueError names the first one missing."""
    index = {name: i for i, name in enumerate(header)}
    missing = [n for n in names if n not in index]
    if missing:
        raise ValueError(f"{where}: no column {missing[0]!r} ({what}); columns: "
                         f"{', '.join(header) or 'none'}")
    return {name: [row[index[name]] if index[name] < len(row) else "" for row in rows]
            for name in names}


def parse_columns(data: bytes, where: str, names: Sequence[str],
                  what: str = "slices.features") -> tuple[int, dict[str, list[str]]]:
    """Row count and the columns ``names`` (as text) of a CSV/TSV file."""
    header, rows = _csv_rows(data, where)
    return len(rows), _pick(header, rows, names, where, what)


def parse_prediction_table(data: bytes, where: str, columns: Sequence[str] = ()
                           ) -> tuple[Predictions, dict[str, list[str]]]:
    """A predictions CSV and its other ``columns`` (as text, e.g. slice features);
    ValueError names ``where`` and what is wrong."""
    import numpy as np

    header, rows = _csv_rows(data, where)
    if "y_true" not in header or not {"y_pred", "y_score"} & set(header):
        raise ValueError(f"{where}: expected columns y_true and y_pred and/or y_score, "
                         f"got {', '.join(header) or 'no header'}")
    if not rows:
        raise ValueError(f"{where}: no rows")
    wanted = [c for c in ("y_true", "y_pred", "y_score") if c in header]
    text = _pick(header, rows, [*wanted, *columns], where, "slices.features")

    def column(name: str) -> FloatArray | None:
        if name not in wanted:
            return None
        try:
            return np.array([float(value) for value in text[name]])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: column {name} has a value that is not a number") \
                from None

    truth = column("y_true")
    assert truth is not None
    return (Predictions(truth, column("y_pred"), column("y_score")),
            {name: text[name] for name in columns})


def parse_predictions(data: bytes, where: str) -> Predictions:
    """Parse a predictions CSV; ValueError names ``where`` and what is wrong."""
    return parse_prediction_table(data, where)[0]
