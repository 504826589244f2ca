"""Tables laid out for a terminal's width: what gives way, in which order, and what never
does."""

from __future__ import annotations

from rich.cells import cell_len

from jx_mlops.views.table import Column, cut_end, cut_middle, render, wrap_cells

URL = "file:///home/someone/.jx-mlops/forge/repos/local/environment-staging.git"


def lines(title: str | None, columns, rows, width: int, caption: str | None = None
          ) -> list[str]:
    return render(title, columns, rows, width, caption=caption).plain.splitlines()


def test_cuts_keep_the_width_and_say_so() -> None:
    assert cut_end("jx-mlops-bot", 8) == "jx-mlop…"
    assert cut_middle(URL, 30) == "file:///ho…ronment-staging.git"
    assert cell_len(cut_middle(URL, 30)) == 30
    assert cut_end("模型版本号", 5) == "模型…"  # two cells a character
    assert cut_middle("short", 10) == "short"


def test_wrapping_breaks_at_spaces_and_folds_only_long_words() -> None:
    assert wrap_cells("approved by ada, grace", 12) == ["approved by", "ada, grace"]
    assert wrap_cells("promote/production/fraud-v0.0.2", 12) == [
        "promote/prod", "uction/fraud", "-v0.0.2"]


def test_nothing_changes_when_the_table_fits() -> None:
    shown = lines("Repositories", ("Repository", Column("Clone URL", "middle")),
                  [("local/churn", "file:///f/churn.git")], 80)
    assert shown == ["Repositories", "Repository   Clone URL", "─" * 32,
                     "local/churn  file:///f/churn.git"]


def test_urls_give_way_and_names_do_not() -> None:
    rows = [("local/environment-production", "main", URL)]
    shown = lines(None, ("Repository", "Default branch", Column("Clone URL", "middle")),
                  rows, 80)
    assert all(cell_len(line) <= 80 for line in shown)
    assert shown[0].split() == ["Repository", "Default", "Clone", "URL"]  # header wrapped
    assert shown[-1].startswith("local/environment-production  main     file://")
    assert shown[-1].endswith("environment-staging.git")


def test_notes_leave_the_table_for_a_line_under_their_row() -> None:
    columns = ("When (UTC)", "Env", "Action", "Version", Column("By", "cut"),
               Column("Notes", "detail"))
    note = "approved by grace, hopper; " + "scores drift on new applicants " * 3
    rows = [("2026-03-01 10:00", "production", "rollback", "v0.0.1", "ada", note.strip()),
            ("2026-03-01 09:00", "production", "promote", "v0.0.2", "ada", "")]
    shown = lines("History", columns, rows, 60)
    assert all(cell_len(line) <= 60 for line in shown)
    assert shown[1].split() == ["When", "(UTC)", "Env", "Action", "Version", "By"]
    assert shown[3].split()[-2:] == ["v0.0.1", "ada"]
    detail = [line for line in shown[4:] if line.startswith("  ")]
    assert " ".join(d.strip() for d in detail) == note.strip()
    assert shown[-1].split()[-2:] == ["v0.0.2", "ada"]
    # Wide enough: the notes stay a column.
    assert lines("History", columns, rows, 200)[1].split()[-1] == "Notes"


def test_people_are_cut_before_free_text_wraps_and_versions_never_are() -> None:
    columns = ("Model", "Version", Column("By", "cut"), Column("Title", "wrap"))
    rows = [("customer-lifetime-value", "v10.20.30",
             "Barbara Liskov <barbara.liskov@registry.example.com>",
             "retrain: train.n_estimators=200, train.max_depth=8")]
    shown = lines(None, columns, rows, 80)
    assert all(cell_len(line) <= 80 for line in shown)
    assert "customer-lifetime-value  v10.20.30  " in shown[2]
    assert "  Barbara L…  retrain: train.n_estimators=200," in shown[2]
    # Too narrow for the names themselves: they overflow whole rather than being cut.
    narrow = lines(None, columns, rows, 30)
    assert "customer-lifetime-value  v10.20.30" in narrow[2]


def test_caption_wraps_and_empty_columns_are_left_out() -> None:
    shown = lines("Deployments", ("Model", "PR"), [("churn", "")], 40,
                  caption="PR: the promotion's pull request in the environment repository")
    assert shown[1] == "Model" and all(cell_len(line) <= 40 for line in shown)
    assert shown[-2:] == ["PR: the promotion's pull request in the",
                          "environment repository"]
