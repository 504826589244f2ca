"""Pure renderers of a Comparison: the PR comment (markdown), terminal, JSON, HTML, Mermaid
and SVG charts, DORA tables."""
