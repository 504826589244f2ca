"""Where is the head worse? Slices of the evaluation rows (one feature's level, or two
features' levels together), the change of every directed per-row metric in each, a paired
bootstrap interval per slice and Benjamini-Hochberg control of the false discovery rate
across them. Pure numpy, no I/O: ``search.search_slices`` is the entry point."""
