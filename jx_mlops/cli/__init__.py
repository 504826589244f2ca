"""The command line: argparse and exit codes only; each handler calls one flow and one view."""
