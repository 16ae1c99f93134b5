"""`push` against a local server speaking Grafana's API: created, unchanged, updated, 412 conflicts, 401."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from dash_fake_grafana import FakeGrafana

from dashboards.build import dashboards
from dashboards.push import Action, PushError, push
from dashboards.settings import DashboardsSettings
from yukimizu.cli import main

TOKEN = "glsa_test-token-0123456789abcdef"  # noqa: S105 (a test token)
DOCS = dashboards()


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    """A fresh fake Grafana that accepts TOKEN."""
    g = FakeGrafana(TOKEN).start()
    yield g
    g.stop()


def _changed_docs() -> list[dict]:
    cfg = DashboardsSettings()
    cfg.backend_url = "http://backend.example:8000"  # changes only the road dashboards' /map links
    return list(dashboards(cfg).values())


def test_first_push_creates_the_folder_and_every_dashboard(grafana: FakeGrafana) -> None:
    """Folder created once, each dashboard saved as version 1 with its uid, into that folder."""
    out = push(grafana.url, TOKEN, "雪水 yukimizu", DOCS.values())
    assert [o.action for o in out] == [Action.CREATED] * len(DOCS)
    assert [o.version for o in out] == [1] * len(DOCS)
    (folder,) = grafana.folders.values()
    assert folder["title"] == "雪水 yukimizu" and folder["uid"] == "yukimizu"
    for uid, doc in DOCS.items():
        saved = grafana.stored[uid]
        assert saved["folderUid"] == "yukimizu"
        assert {k: v for k, v in saved["dashboard"].items() if k not in ("id", "version")} == doc
    posts = [(c.path, c.status) for c in grafana.calls if c.method == "POST"]
    assert posts == [("/api/folders", 200)] + [("/api/dashboards/db", 200)] * len(DOCS)


def test_pushing_again_changes_nothing_and_posts_nothing(grafana: FakeGrafana) -> None:
    """Idempotent: a second push reads, finds everything identical, and writes nothing."""
    push(grafana.url, TOKEN, "yukimizu", DOCS.values())
    n = len(grafana.calls)
    out = push(grafana.url, TOKEN, "yukimizu", DOCS.values())
    assert [o.action for o in out] == [Action.UNCHANGED] * len(DOCS)
    assert [c.method for c in grafana.calls[n:]] == ["GET"] * (1 + len(DOCS))


def test_a_changed_dashboard_is_updated_under_the_same_uid_with_a_new_version(grafana: FakeGrafana) -> None:
    """Only what differs is saved, with Grafana's current version (optimistic locking), as version 2."""
    push(grafana.url, TOKEN, "yukimizu", DOCS.values())
    out = {o.uid: o for o in push(grafana.url, TOKEN, "yukimizu", _changed_docs())}
    updated = {u for u, o in out.items() if o.action is Action.UPDATED}
    assert updated == {"yukimizu-road", "yukimizu-road-en"}
    assert all(out[u].version == 2 for u in updated)
    assert all(o.action is Action.UNCHANGED for u, o in out.items() if u not in updated)
    saves = [c for c in grafana.calls if c.path == "/api/dashboards/db"][-2:]
    assert all(c.request["dashboard"]["version"] == 1 and c.request["overwrite"] is False for c in saves)
    assert "http://backend.example:8000/map" in str(grafana.stored["yukimizu-road"]["dashboard"]["links"])


def test_a_dashboard_edited_in_grafana_meanwhile_is_a_conflict_and_left_alone(grafana: FakeGrafana) -> None:
    """Grafana's 412 version-mismatch is reported per dashboard; the person's edit survives; --overwrite wins."""
    push(grafana.url, TOKEN, "yukimizu", DOCS.values())
    grafana.someone_edits.add("yukimizu-road")
    out = {o.uid: o for o in push(grafana.url, TOKEN, "yukimizu", _changed_docs())}
    assert out["yukimizu-road"].action is Action.CONFLICT
    assert "412" in out["yukimizu-road"].detail and "--overwrite" in out["yukimizu-road"].detail
    assert out["yukimizu-road-en"].action is Action.UPDATED, "the other dashboards still go through"
    assert [c.status for c in grafana.calls if c.path == "/api/dashboards/db"][-2:] == [412, 200]
    assert grafana.stored["yukimizu-road"]["dashboard"]["title"] == "edited by hand"
    forced = {o.uid: o for o in push(grafana.url, TOKEN, "yukimizu", _changed_docs(), overwrite=True)}
    assert forced["yukimizu-road"].action is Action.UPDATED and forced["yukimizu-road"].version == 3
    assert grafana.stored["yukimizu-road"]["dashboard"]["title"] == DOCS["yukimizu-road"]["title"]


def test_a_wrong_token_stops_with_a_clear_error_that_does_not_repeat_the_token(grafana: FakeGrafana) -> None:
    """401 names the problem (the token) and nothing is written."""
    wrong = "glsa_wrong-secret-token"
    with pytest.raises(PushError) as e:
        push(grafana.url, wrong, "yukimizu", DOCS.values())
    msg = str(e.value)
    assert "401" in msg and "token" in msg and grafana.url in msg
    assert wrong not in msg
    assert [c.status for c in grafana.calls] == [401] and grafana.stored == {}


def test_cli_push_reports_what_changed_and_exits_1_on_conflict(grafana: FakeGrafana, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`yukimizu dashboards push` prints one line per dashboard and a summary; never the token."""
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    assert main(["dashboards", "push", "--grafana-url", grafana.url, "--token", TOKEN]) == 0
    first = capsys.readouterr().out
    assert "created 6" in first and "yukimizu-farmer" in first
    assert main(["dashboards", "push", "--grafana-url", grafana.url, "--token", TOKEN]) == 0
    assert "unchanged 6" in capsys.readouterr().out
    grafana.someone_edits.add("yukimizu-fleet")
    grafana.stored["yukimizu-fleet"]["dashboard"]["title"] = "stale copy"  # so push wants to save it
    assert main(["dashboards", "push", "--grafana-url", grafana.url, "--token", TOKEN]) == 1
    out = capsys.readouterr().out
    assert "conflict  yukimizu-fleet" in out and "conflict 1" in out
    assert main(["dashboards", "push", "--grafana-url", grafana.url, "--token", "nope"]) == 1
    err = capsys.readouterr().err
    assert "401" in err and "nope" not in err
    assert TOKEN not in first + out + err
