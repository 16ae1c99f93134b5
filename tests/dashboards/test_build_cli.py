"""`yukimizu dashboards build`: the files Grafana provisions from, parameterised, and never holding a secret."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboards.build import dashboards
from dashboards.common import DATASOURCE_UID
from dashboards.provisioning import read_yaml
from yukimizu.cli import main

SECRETS = {
    "YUKIMIZU_INFLUX_USER": "grafana-reader-7c1",
    "YUKIMIZU_INFLUX_PASSWORD": "pw-s3cret-91f2",
    "YUKIMIZU_INFLUX_TOKEN": "tok-s3cret-44ab",
    "GRAFANA_TOKEN": "glsa_s3cret-0d9e",
}


def _build(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    assert main(["dashboards", "build", "--out", str(out), *args]) == 0
    return out


def _datasource(out: Path) -> dict:
    (ds,) = read_yaml((out / "provisioning/datasources/yukimizu.yaml").read_text(encoding="utf-8"))["datasources"]
    return ds


def test_build_writes_dashboards_and_provisioning_files(tmp_path: Path) -> None:
    """Six dashboards (ja + en) and the three provisioning files, the JSON identical to the built models."""
    out = _build(tmp_path)
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted([f"dashboards/{u}.json" for u in dashboards()] + [
        "provisioning/alerting/yukimizu.yaml", "provisioning/dashboards/yukimizu.yaml",
        "provisioning/datasources/yukimizu.yaml"])
    for uid, doc in dashboards().items():
        assert json.loads((out / f"dashboards/{uid}.json").read_text(encoding="utf-8")) == doc
    alerting = read_yaml((out / "provisioning/alerting/yukimizu.yaml").read_text(encoding="utf-8"))
    assert {r["uid"] for g in alerting["groups"] for r in g["rules"]} >= {"yukimizu-plow-stopped"}


def test_building_twice_gives_byte_identical_files(tmp_path: Path) -> None:
    """Stable output: re-provisioning from an unchanged build changes nothing in Grafana."""
    a, b = _build(tmp_path / "a"), _build(tmp_path / "b")
    for p in a.rglob("*"):
        if p.is_file():
            assert p.read_bytes() == (b / p.relative_to(a)).read_bytes(), p


@pytest.mark.parametrize(("auth", "expect"), [
    ("none", {}),
    ("password", {"user": "$__env{YUKIMIZU_INFLUX_USER}",
                  "secureJsonData": {"password": "$__env{YUKIMIZU_INFLUX_PASSWORD}"}}),
    ("token", {"secureJsonData": {"httpHeaderValue1": "Token $__env{YUKIMIZU_INFLUX_TOKEN}"}}),
], ids=["open InfluxDB 1.x needs no credentials", "InfluxDB 1.x user and password come from Grafana's environment",
        "InfluxDB 2.x/3.x token is sent as Authorization: Token from Grafana's environment"])
def test_datasource_is_influxql_with_credentials_only_as_env_references(tmp_path: Path, auth: str, expect: dict,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """URL and database from the command line; credentials as $__env{...} references and never the values."""
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    out = _build(tmp_path, "--influx-url", "https://influx.city.example:8086", "--database", "yukimizu_prod",
                 "--auth", auth)
    ds = _datasource(out)
    assert ds["type"] == "influxdb" and ds["uid"] == DATASOURCE_UID
    assert ds["url"] == "https://influx.city.example:8086"
    assert ds["jsonData"]["version"] == "InfluxQL" and ds["jsonData"]["dbName"] == "yukimizu_prod"
    assert ds["database"] == "yukimizu_prod"
    for key, value in expect.items():
        assert ds[key] == value
    assert ("secureJsonData" in ds) == (auth != "none")
    assert (ds["jsonData"].get("httpHeaderName1") == "Authorization") == (auth == "token")
    for p in out.rglob("*"):
        if p.is_file():
            text = p.read_text(encoding="utf-8")
            leaked = [name for name, v in SECRETS.items() if v in text]
            assert not leaked, f"{p} holds the value of {leaked}"


def test_provider_loads_from_the_configured_path_into_the_folder(tmp_path: Path) -> None:
    """The dashboards provider points at --dashboards-path, file type, not editable from the UI."""
    out = _build(tmp_path, "--dashboards-path", "/srv/grafana/yukimizu")
    (p,) = read_yaml((out / "provisioning/dashboards/yukimizu.yaml").read_text(encoding="utf-8"))["providers"]
    assert p["type"] == "file" and p["options"]["path"] == "/srv/grafana/yukimizu"
    assert p["folder"] == "yukimizu" and p["allowUiUpdates"] is False


@pytest.mark.parametrize(("variable", "value", "complaint"), [
    ("YUKIMIZU_DASHBOARDS__INFLUX__TOKEN_ENV", "tok-s3cret-44ab", "influx.token_env"),
    ("YUKIMIZU_DASHBOARDS__INFLUX__PASSWORD", "pw-s3cret-91f2", "influx.password"),
    ("YUKIMIZU_DASHBOARDS__INFLUX__URL", "influx.local:8086", "influx.url"),
], ids=["a secret pasted where the variable's name belongs is refused without echoing it",
        "there is no setting that could hold a password", "a URL without scheme is refused"])
def test_bad_settings_are_refused_by_name_and_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch, variable: str,
                                                                 value: str, complaint: str) -> None:
    """Exit 2, the error names the setting, no files."""
    monkeypatch.setenv(variable, value)
    assert main(["dashboards", "build", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert complaint in err
    if "s3cret" in value:
        assert value not in err
    assert not (tmp_path / "out").exists()


def test_check_runs_every_panel_query_against_influxdb_and_reports(site: object, capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`dashboards check` on the filled database: no errors, repeated rows run per field, a summary line."""
    db = site.db  # type: ignore[attr-defined]
    assert main(["dashboards", "check", "--site", "goshogawara", "--influx-url", db.url, "--database", db.database]) == 0
    out = capsys.readouterr().out
    assert "ERROR" not in out
    assert "[field=paddy-01]" in out and "[field=orchard-01]" in out
    summary = out.strip().splitlines()[-1]
    assert summary.endswith(", 0 errors") and "with data" in summary
    # an orchard has no water sensor: its water-level query is empty, and check says so
    assert any(line.startswith("empty yukimizu-farmer #10 A [field=orchard-01]") for line in out.splitlines())


def test_check_says_clearly_when_influxdb_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    """An unreachable InfluxDB is one clear line and exit 1, not a wall of per-panel errors."""
    assert main(["dashboards", "check", "--site", "x", "--influx-url", "http://127.0.0.1:9", "--database", "x"]) == 1
    assert "does not answer" in capsys.readouterr().err


def test_settings_file_parameterises_the_build(tmp_path: Path) -> None:
    """A TOML file sets URL, database, auth, folder, backend link and soil limits."""
    cfg = tmp_path / "dashboards.toml"
    cfg.write_text('backend_url = "https://yukimizu.city.example"\n[influx]\nurl = "http://10.0.0.5:8086"\n'
                   'database = "farm"\nauth = "token"\ntoken_env = "CITY_INFLUX_TOKEN"\n[grafana]\nfolder = "雪水"\n'
                   '[farm]\nfield_capacity_pct = 40.0\nwilting_point_pct = 20.0\ndepletion_fraction = 0.5\n',
                   encoding="utf-8")
    out = _build(tmp_path, "--config", str(cfg))
    ds = _datasource(out)
    assert ds["url"] == "http://10.0.0.5:8086" and ds["jsonData"]["dbName"] == "farm"
    assert ds["secureJsonData"] == {"httpHeaderValue1": "Token $__env{CITY_INFLUX_TOKEN}"}
    road = json.loads((out / "dashboards/yukimizu-road.json").read_text(encoding="utf-8"))
    assert road["links"][0]["url"] == "https://yukimizu.city.example/map"
    farmer = json.loads((out / "dashboards/yukimizu-farmer.json").read_text(encoding="utf-8"))
    soil = next(p for p in farmer["panels"] if p["id"] == 11)
    steps = [s["value"] for s in soil["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert steps == [None, 30.0, 40.0], "irrigation threshold FC - p (FC - WP) = 40 - 0.5 x 20 = 30 %"
    alerting = read_yaml((out / "provisioning/alerting/yukimizu.yaml").read_text(encoding="utf-8"))
    assert {g["folder"] for g in alerting["groups"]} == {"雪水"}
