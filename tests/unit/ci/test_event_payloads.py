"""CI event payloads of any shape are read or refused with one clean error (hypothesis)."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kit.strategies import JSON_VALUES

EVENT_KEYS = {"pull_request": ("number", "head", "base"),
              "issue": ("number", "pull_request"), "comment": ("id", "body", "user"),
              "workflow_run": ("id", "name", "event", "conclusion", "head_sha", "head_branch",
                               "head_repository", "pull_requests"),
              "repository": ("full_name",), "sender": ("login",), "after": ()}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["pull_request", "issue_comment", "push", "workflow_run"]),
       st.dictionaries(st.sampled_from(sorted(EVENT_KEYS)),
                       JSON_VALUES | st.dictionaries(
                           st.sampled_from([k for keys in EVENT_KEYS.values() for k in keys]),
                           JSON_VALUES, max_size=6), max_size=7))
def test_event_payloads_of_any_shape_are_read_or_refused_cleanly(
        tmp_path_factory: pytest.TempPathFactory, kind: str, payload: dict[str, object]) -> None:
    from jx_mlops.ci.context import detect_context
    from jx_mlops.errors import JxMlopsError

    path = tmp_path_factory.getbasetemp() / "hypothesis-event.json"
    path.write_text(json.dumps(payload))
    with contextlib.suppress(JxMlopsError):
        detect_context({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": kind,
                        "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": "a/b"})
