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
                      "DVC does not read it either: save it as UTF-8)") from None
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


def parse_predictions(data: bytes, where: str) -> Predictions:
    """Parse a predictions CSV; ValueError names ``where`` and what is wrong."""
    import numpy as np

    text = data.decode("utf-8", errors="replace")
    dialect = "excel-tab" if "\t" in text.split("\n", 1)[0] else "excel"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    columns = reader.fieldnames or []
    if "y_true" not in columns or not {"y_pred", "y_score"} & set(columns):
        raise ValueError(f"{where}: expected columns y_true and y_pred and/or y_score, "
                         f"got {', '.join(columns) or 'no header'}")
    rows = list(reader)
    if not rows:
        raise ValueError(f"{where}: no rows")

    def column(name: str) -> FloatArray | None:
        if name not in columns:
            return None
        try:
            return np.array([float(row[name]) for row in rows])
        except (TypeError, ValueError):
            raise ValueError(f"{where}: column {name} has a value that is not a number") \
                from None

    truth = column("y_true")
    assert truth is not None
    return Predictions(truth, column("y_pred"), column("y_score"))
