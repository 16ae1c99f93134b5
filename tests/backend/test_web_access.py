"""The web pages with tokens as people get them: a link with the token in its fragment, or none at all."""
from __future__ import annotations

from pathlib import Path

import httpx
from test_web_pages import render, seed, server, text_of  # noqa: F401 (server is a fixture)

from yukimizu.influx import InfluxV1


def test_a_farmers_link_shows_only_their_fields_and_no_token_asks_for_one(server: str, influx: InfluxV1,  # noqa: F811
                                                                          tmp_path: Path, admin_token: str) -> None:
    seed(server, influx, admin_token)
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {admin_token}"}) as c:
        r = c.post("/api/v1/tokens", json={"role": "farmer", "field_ids": ["paddy-1"], "label": "北の田の農家"})
        assert r.status_code == 201, r.text
        farmer = r.json()["token"]
    text = text_of(render(server + f"/fields#token={farmer}", tmp_path / "farmer"))
    assert "北の田" in text and "水位 1.2 cm" in text
    assert "りんご園" not in text  # someone else's orchard
    # The fleet page is for the city: the farmer's token is told it may not see it.
    assert "このトークンではこのページを見られません" in text_of(render(server + f"/fleet#token={farmer}", tmp_path / "farmer"))
    # A fresh browser without the link gets a form asking for the token, and no field data.
    dom = render(server + "/fields", tmp_path / "nobody")
    assert 'data-ready="login"' in dom and "アクセス用のトークンを入力してください" in text_of(dom)
    assert "北の田" not in text_of(dom)
