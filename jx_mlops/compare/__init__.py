"""Pure comparison of a base and a head: metric deltas, directions and tolerances,
significance, cost, data changes, charts, trusted scores, DORA keys. No I/O."""
