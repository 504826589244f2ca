"""How `bom` shows an ML-BOM: CycloneDX JSON for tools, markdown for people."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jx_mlops import console


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def bom_markdown(doc: Mapping[str, Any], notes: list[str]) -> str:
    """A reviewer's page of the BOM: the same facts as the JSON, as tables."""
    model = doc["metadata"]["component"]
    props = {p["name"]: p["value"] for p in model.get("properties", [])}
    hashes = ", ".join(f"{h['alg']} `{h['content']}`" for h in model.get("hashes", []))
    lines = [f"# ML-BOM: {model['name']} {model['version']}", "",
             f"CycloneDX {doc['specVersion']}, serial `{doc['serialNumber']}`, "
             f"registered {doc['metadata'].get('timestamp', 'not recorded')}.", "",
             f"- Tag `{props.get('jx-mlops:tag')}` at commit `{props.get('jx-mlops:commit')}`",
             f"- Artifact `{props.get('jx-mlops:path', 'not recorded')}`: "
             f"{hashes or 'no hash recorded'}",
             f"- Signature: {props.get('jx-mlops:signature:method', 'not signed')}"
             + (f", bundle sha256 `{props['jx-mlops:signature:sha256']}`"
                if "jx-mlops:signature:sha256" in props else ""), ""]
    card = model.get("modelCard", {})
    uses = card.get("considerations", {}).get("useCases", [])
    lines += ["## Intended use", "", *(uses or ["Not recorded."]), ""]
    perf = card.get("quantitativeAnalysis", {}).get("performanceMetrics", [])
    lines += ["## Performance", ""]
    lines += ["| Metric | Slice | Value |", "|:--|:--|--:|",
              *(f"| {_cell(m['type'])} | {_cell(m.get('slice', 'all'))} | {m['value']} |"
                for m in perf)] if perf else ["Not recorded."]
    fair = card.get("considerations", {}).get("fairnessAssessments", [])
    lines += ["", "## Fairness", ""]
    lines += ["| Assessment | Mitigation |", "|:--|:--|",
              *(f"| {_cell(f['harms'])} | {_cell(f['mitigationStrategy'])} |" for f in fair)] \
        if fair else ["No fairness limit is set."]
    comps = doc.get("components", [])
    data = [c for c in comps if c["type"] == "data"]
    lines += ["", "## Data", ""]
    lines += ["| Path | DVC md5 | Size |", "|:--|:--|--:|",
              *(f"| {_cell(c['name'])} | `{_prop(c, 'jx-mlops:dvc-md5')}` | "
                f"{_prop(c, 'jx-mlops:size')} |" for c in data)] if data else ["Not recorded."]
    code = [c for c in comps if c["type"] == "application"]
    lines += ["", "## Training code", "",
              *(f"`{c['name']}` at commit `{c['version']}`" for c in code)]
    libs = [c for c in comps if c["type"] == "library"]
    lines += ["", "## Dependencies", ""]
    lines += ["| Package | Version | Declared in |", "|:--|:--|:--|",
              *(f"| {_cell(c['name'])} | "
                f"{_cell(c.get('version') or _prop(c, 'jx-mlops:specifier'))} | "
                f"{_cell(_prop(c, 'jx-mlops:declared-in'))} |" for c in libs)] \
        if libs else ["Not recorded."]
    if notes:
        lines += ["", "## What this BOM cannot say", "", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def _prop(component: Mapping[str, Any], name: str) -> str:
    return next((p["value"] for p in component.get("properties", []) if p["name"] == name), "")


def show_bom(doc: Mapping[str, Any], notes: list[str], *, fmt: str, output: Path | None
             ) -> None:
    text = bom_markdown(doc, notes) if fmt == "md" \
        else json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if output is None:
        print(text, end="")
    else:
        output.write_text(text, encoding="utf-8")
        console.info(f"Wrote {output} ({len(text.encode())} bytes, CycloneDX "
                     f"{doc['specVersion']}{', as markdown' if fmt == 'md' else ''})")
    for note in notes if fmt != "md" else []:
        console.warn(note)
