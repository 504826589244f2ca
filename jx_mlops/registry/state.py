"""Which GTO events are in effect: the registry state GTO derives from its tags.

GTO's rules (``gto/base.py``, ``gto/tag.py``), restated for annotated tags only:

- tags are indexed in tagger-time order, deprecations first, then registrations and
  deregistrations, then stage assignments and unassignments;
- a version is in effect when its newest registration is newer than its newest
  deregistration (a tie goes to the deregistration);
- an assignment lands on the version registered at the tagged commit; a commit with no
  registered version becomes an unregistered version named by its commit sha;
- a stage of a version is in effect when its newest event is an assignment (a tie goes
  to the unassignment);
- each stage shows one version: among versions in effect, the one whose stage was
  assigned last (ties broken as GTO's stable sorts break them);
- an artifact is deprecated when its newest event is a deprecation (a tie goes to the
  other event): ``gto show`` then lists none of its versions.

Two cases GTO itself cannot handle are settled here: several versions registered at one
commit (GTO raises "many versions"; the assignment goes to the first registered), and
repeated assignments to one unregistered commit (GTO lists the sha once per assignment;
here it is one version).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from jx_mlops.git.values import TagInfo
from jx_mlops.registry.grammar import TagName, parse_tag_name


@dataclass(frozen=True)
class StageEvent:
    """One assignment (or unassignment) of a stage to a version."""

    stage: str
    assigned: bool
    tag: TagInfo


@dataclass
class VersionRecord:
    """Every event of one version of one artifact, as GTO indexes them."""

    artifact: str
    version: str
    commit: str
    order: int
    registrations: list[TagInfo] = field(default_factory=list)
    deregistrations: list[TagInfo] = field(default_factory=list)
    stage_events: dict[str, list[StageEvent]] = field(default_factory=dict)

    @property
    def registered(self) -> bool:
        return bool(self.registrations)

    @property
    def explicit(self) -> bool:
        """Registered or deregistered (GTO: not "discovered")."""
        return bool(self.registrations or self.deregistrations)

    @property
    def active(self) -> bool:
        if not self.explicit:
            return bool(self.stage_events)
        if not self.registrations:
            return False
        newest_off = max((t.tagged_at for t in self.deregistrations), default=None)
        return newest_off is None or _newest(self.registrations) > newest_off

    @property
    def registration(self) -> TagInfo | None:
        """The registration in effect (the newest one)."""
        return max(self.registrations, key=lambda t: t.tagged_at, default=None)

    @property
    def created_at(self) -> int:
        """GTO's ``created_at`` of a version: its newest registration, or else its newest
        stage event."""
        if self.registrations:
            return _newest(self.registrations)
        return max((e.tag.tagged_at for events in self.stage_events.values()
                    for e in events), default=0)

    def event_times(self) -> list[int]:
        times = [t.tagged_at for t in self.registrations + self.deregistrations]
        times += [e.tag.tagged_at for events in self.stage_events.values() for e in events]
        return times

    def active_stages(self) -> list[tuple[str, int]]:
        """(stage, time of its newest assignment) of the stages in effect, oldest first."""
        found = []
        for stage, events in self.stage_events.items():
            newest = sorted(events, key=lambda e: (e.tag.tagged_at, not e.assigned))[-1]
            if newest.assigned:
                found.append((stage, newest.tag.tagged_at))
        return sorted(found, key=lambda item: item[1])


@dataclass
class ArtifactRecord:
    """One artifact: its versions and deprecations."""

    name: str
    versions: list[VersionRecord] = field(default_factory=list)
    deprecations: list[TagInfo] = field(default_factory=list)

    @property
    def active(self) -> bool:
        times = [t for v in self.versions for t in v.event_times()]
        if not self.deprecations:
            return bool(times)
        return max(times, default=-1) >= _newest(self.deprecations)

    def live_versions(self) -> list[VersionRecord]:
        """Versions in effect, in the order GTO creates them."""
        return [v for v in self.versions if v.active]

    def current_stages(self) -> dict[str, VersionRecord]:
        """Stage -> the version ``gto show`` shows in it (GTO's Timestamp order)."""
        by_time = sorted(self.live_versions(), key=lambda v: v.created_at)[::-1]
        candidates = [(stage, at, v) for v in by_time for stage, at in v.active_stages()]
        current: dict[str, VersionRecord] = {}
        for stage, _at, version in sorted(candidates, key=lambda c: c[1])[::-1]:
            current.setdefault(stage, version)
        return current

    def find(self, version: str, commit: str) -> VersionRecord | None:
        for record in self.versions:
            if record.version == version and record.commit == commit:
                return record
        return None

    def at_commit(self, commit: str) -> VersionRecord:
        """The version an assignment at ``commit`` lands on (made if there is none)."""
        for record in self.versions:
            if record.commit == commit and record.explicit:
                return record
        for record in self.versions:
            if record.commit == commit and record.version == commit:
                return record
        return self.add(commit, commit)

    def add(self, version: str, commit: str) -> VersionRecord:
        record = VersionRecord(self.name, version, commit, order=len(self.versions))
        self.versions.append(record)
        return record


@dataclass(frozen=True)
class RegistryState:
    """Every artifact GTO knows from the tags, by full name."""

    artifacts: dict[str, ArtifactRecord]

    def artifact(self, name: str) -> ArtifactRecord | None:
        return self.artifacts.get(name)


def _newest(tags: list[TagInfo]) -> int:
    return max(t.tagged_at for t in tags)


def build_state(tags: Iterable[TagInfo]) -> RegistryState:
    """The registry GTO would index from ``tags`` (refname order, as git lists them)."""
    events: list[tuple[TagInfo, TagName]] = []
    for tag in tags:
        parsed = parse_tag_name(tag.name)
        if parsed is not None and tag.annotated:  # GTO skips lightweight tags
            events.append((tag, parsed))
    events.sort(key=lambda e: e[0].tagged_at)
    artifacts: dict[str, ArtifactRecord] = {}

    def artifact(name: str) -> ArtifactRecord:
        return artifacts.setdefault(name, ArtifactRecord(name))

    for tag, parsed in events:
        if parsed.action == "deprecate":
            artifact(parsed.artifact).deprecations.append(tag)
    for tag, parsed in events:
        if parsed.action in ("register", "deregister"):
            record = artifact(parsed.artifact)
            version = record.find(parsed.version, tag.target) or record.add(
                parsed.version, tag.target)
            (version.registrations if parsed.action == "register"
             else version.deregistrations).append(tag)
    for tag, parsed in events:
        if parsed.action in ("assign", "unassign"):
            version = artifact(parsed.artifact).at_commit(tag.target)
            version.stage_events.setdefault(parsed.stage, []).append(
                StageEvent(parsed.stage, parsed.action == "assign", tag))
    return RegistryState(artifacts)
