"""The incremental index of promotion events kept in an environment mirror."""

from __future__ import annotations

from pathlib import Path

from kit.git import git

from jx_mlops.environments.history import INDEX_DIR, indexed_events, trailers
from jx_mlops.git.repo import GitRepo


def promotion(repo: GitRepo, base: str, model: str, version: str) -> str:
    message = f"chore: promote {model} to {version} in staging\n\n" + trailers({
        "Action": "promote", "Model": model, "Environment": "staging", "Version": version,
        "By": "tester"}) + "\n"
    return repo.commit_files(base, {f"models/{model}.yaml": version.encode()}, message)


def test_index_follows_new_commits_rewrites_and_crashes(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "env.git", bare=True)
    work = tmp_path / "seed"
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    git(work, "commit", "-q", "--allow-empty", "-m", "initial")
    git(work, "push", "-q", str(repo.path), "main")
    tip = repo.rev_parse("main")
    for version in ("v1", "v2"):
        tip = promotion(repo, tip, "a", version)
    tip = promotion(repo, tip, "b", "v1")
    repo.update_ref("refs/heads/main", tip, repo.rev_parse("main"))
    assert [e.version for e in indexed_events(repo, "main", "a")] == ["v2", "v1"]
    first = tip

    tip = promotion(repo, tip, "a", "v3")
    repo.update_ref("refs/heads/main", tip, first)
    assert [e.version for e in indexed_events(repo, "main", "a")] == ["v3", "v2", "v1"]
    newest = indexed_events(repo, "main")[0]
    assert (newest.model, newest.version) == ("a", "v3")

    # Killed after appending, before moving the tip: the same events come again, once.
    (repo.git_dir / INDEX_DIR / "tip").write_text(f"1 {first}\n")
    assert [e.version for e in indexed_events(repo, "main", "a")] == ["v3", "v2", "v1"]

    # History rewritten under it (force-push): rebuilt, not appended to.
    other = promotion(repo, repo.rev_parse(f"{first}~3"), "a", "v9")
    repo.update_ref("refs/heads/main", other, tip)
    assert [e.version for e in indexed_events(repo, "main", "a")] == ["v9"]
    assert indexed_events(repo, "main", "b") == []
