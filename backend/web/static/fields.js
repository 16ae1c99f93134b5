// The farmer's field overview: one card per field, fields needing attention first.
"use strict";
(() => {
  const L = {
    ja: {title: "圃場の状況", updated: "更新", level: "水位", moisture: "土壌水分", wtemp: "水温", stemp: "地温",
         band: "目安", lastSeen: "最終受信", ok: "正常", alert: "要対応", no_data: "データなし", noFields: "圃場が登録されていません",
         stage: "生育段階", saved: "保存しました", advice: "今日の水管理", urgent: "至急", paddy: "水田", apple: "りんご", vegetable: "野菜", soy: "大豆", wheat: "小麦", other: "その他", stageUnset: "生育段階未設定"},
    en: {title: "Fields", updated: "Updated", level: "Water level", moisture: "Soil moisture", wtemp: "Water temp.",
         stemp: "Soil temp.", band: "Target", lastSeen: "Last reading", ok: "OK", alert: "Needs attention",
         no_data: "No data", noFields: "No fields registered", stage: "Growth stage", saved: "Saved", advice: "Water today", urgent: "Urgent", paddy: "Paddy", apple: "Apple", vegetable: "Vegetables",
         soy: "Soybeans", wheat: "Wheat", other: "Other", stageUnset: "stage not set"},
  };
  let data = null;
  const site = new URLSearchParams(location.search).get("site");
  function reading(label, value, unit) {
    return value == null ? "" : `<div><span>${YK.esc(label)}</span> <span class="big">${YK.esc(value)}</span> ${unit}</div>`;
  }
  function render() {
    const t = k => YK.t(L, k);
    document.getElementById("title").textContent = t("title");
    document.title = `${t("title")} — yukimizu`;
    if (!data) return;
    const now = data.generated_at_ms;
    document.getElementById("meta").textContent = `${t("updated")} ${YK.jst(now)}`;
    const box = document.getElementById("fields");
    if (!data.fields.length) { box.innerHTML = `<p>${t("noFields")}</p>`; return; }
    box.innerHTML = data.fields.map(f => {
      const r = f.readings || {};
      const stage = f.growth_stage ? (YK.lang === "ja" ? f.growth_stage_ja : f.growth_stage) : t("stageUnset");
      const band = (f.band_min_cm != null || f.band_max_cm != null)
        ? `<div class="band">${t("band")} ${f.band_min_cm ?? "—"}〜${f.band_max_cm ?? "—"} cm</div>` : "";
      // The farmer sets a paddy's stage here; the water band and the alerts follow it.
      const stageSelect = f.crop !== "paddy" ? "" : `<label class="band">${t("stage")}
        <select data-stage-for="${YK.esc(f.id)}"><option value="">—</option>${data.paddy_stages.map(s =>
          `<option value="${s.id}"${s.id === f.growth_stage ? " selected" : ""}>${YK.esc(YK.lang === "ja" ? s.ja : s.en)}</option>`).join("")}
        </select></label>`;
      // What to do with the water today, from the same readings; urgent advice stands out (by word too).
      const urgent = f.advice && ["high", "critical"].includes(f.advice.urgency)
        ? `<span class="status alert">${t("urgent")}</span> ` : "";
      const adv = f.advice ? `<p class="advice ${YK.esc(f.advice.urgency)}" data-advice="${YK.esc(f.advice.action)}">
        ${urgent}<strong>${t("advice")}:</strong> ${YK.esc(YK.lang === "ja" ? f.advice.message_ja : f.advice.message_en)}</p>` : "";
      const msgs = (f.alerts || []).map(a => `<p class="msg">${YK.esc(YK.lang === "ja" ? a.message_ja : a.message_en)}</p>`).join("");
      return `<section class="card ${f.status}" data-field="${YK.esc(f.id)}" data-status="${f.status}">
        <h2><span>${YK.esc(f.name)}</span><span class="status ${f.status}">${t(f.status)}</span></h2>
        <div class="band">${t(f.crop)} · ${YK.esc(stage)}</div>
        ${stageSelect}
        ${adv}
        ${reading(t("level"), r.level_cm, "cm")}${band}
        ${reading(t("moisture"), r.vwc_pct, "%")}
        ${reading(t("wtemp"), r.water_temp_c, "℃")}${reading(t("stemp"), r.soil_temp_c, "℃")}
        <div class="band">${t("lastSeen")}: ${YK.jst(f.last_seen_ms)} ${f.last_seen_ms ? "(" + YK.ago(f.last_seen_ms, now) + ")" : ""}</div>
        ${msgs}
      </section>`;
    }).join("");
    box.querySelectorAll("select[data-stage-for]").forEach(sel => sel.addEventListener("change", () => setStage(sel)));
    document.body.dataset.ready = "1";
  }
  async function setStage(sel) {
    const id = sel.dataset.stageFor;
    const r = await YK.api(`/api/v1/fields/${encodeURIComponent(id)}`, {method: "PATCH",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({growth_stage: sel.value || null})});
    if (!r.ok) { alert(`${id}: HTTP ${r.status}`); return; }
    document.getElementById("meta").textContent = YK.t(L, "saved");
    load();
  }
  async function load() {
    try {
      data = await YK.getJSON("/api/v1/overview/fields" + (site ? `?site=${encodeURIComponent(site)}` : ""));
      render();
    } catch (e) {
      if (e.status === 401 || e.status === 403) { YK.askToken(document.getElementById("fields"), e.status); return; }
      document.getElementById("fields").innerHTML = `<p class="error">${YK.esc(e.message)}</p>`;
      document.body.dataset.ready = "error";
    }
  }
  YK.setupToggle(render);
  render();
  load();
  setInterval(load, 60000);
})();
