// Fleet health: every device, problems first, with what to do about them.
"use strict";
(() => {
  const L = {
    ja: {title: "機器の状態", updated: "更新", device: "機器", kind: "種類", where: "設置先", lastSeen: "最終受信",
         battery: "電池", signal: "電波", firmware: "ファーム", problems: "状態", ok: "正常", problem: "異常", warning: "注意",
         counts: "異常 {p} · 注意 {w} · 正常 {o}", never: "未受信", daysLeft: "残り約{d}日", parked: "駐車中(エンジン停止)",
         soil: "土壌", water: "水位", weather: "気象", plow: "除雪車", gateway: "ゲートウェイ"},
    en: {title: "Fleet health", updated: "Updated", device: "Device", kind: "Kind", where: "Where", lastSeen: "Last seen",
         battery: "Battery", signal: "Signal", firmware: "Firmware", problems: "Status", ok: "OK", problem: "Problem",
         warning: "Warning", counts: "{p} problems · {w} warnings · {o} OK", never: "never", daysLeft: "about {d} days left",
         parked: "Parked (engine off)",
         soil: "soil", water: "water", weather: "weather", plow: "plow", gateway: "gateway"},
  };
  let data = null;
  const site = new URLSearchParams(location.search).get("site");
  function render() {
    const t = k => YK.t(L, k);
    document.getElementById("title").textContent = t("title");
    document.title = `${t("title")} — yukimizu`;
    document.getElementById("head").innerHTML = ["device", "problems", "lastSeen", "battery", "signal", "where", "firmware"]
      .map((k, i) => `<th class="${i > 4 ? "wide" : ""}">${t(k)}</th>`).join("");
    if (!data) return;
    const now = Date.parse(data.generated_at);
    const c = data.counts;
    document.getElementById("meta").textContent =
      `${t("updated")} ${YK.jst(now)} · ` + t("counts").replace("{p}", c.problem).replace("{w}", c.warning).replace("{o}", c.ok);
    document.getElementById("devices").innerHTML = data.devices.map(d => {
      const probs = d.problem_texts.length
        ? d.problem_texts.map(p => YK.esc(YK.lang === "ja" ? p.ja : p.en)).join("<br>") : t(d.parked ? "parked" : "ok");
      const batt = d.battery_v == null ? "—" : `${d.battery_v.toFixed(2)} V` +
        (d.battery_days_left != null ? `<br><small>${t("daysLeft").replace("{d}", Math.round(d.battery_days_left))}</small>` : "");
      const seen = d.last_seen_ms == null ? t("never") : `${YK.jst(d.last_seen_ms)}<br><small>${YK.ago(d.last_seen_ms, now)}</small>`;
      const where = [d.site, d.field_id || d.vehicle_id, d.route].filter(Boolean).map(YK.esc).join(" / ");
      return `<tr class="${d.status}" data-device="${YK.esc(d.device_id)}" data-status="${d.status}">
        <td><b>${YK.esc(d.device_id)}</b><br><small>${t(d.kind)}</small></td>
        <td class="status ${d.status}">${probs}${d.clock_problem ? `<br><small>${YK.esc(d.clock_problem)}</small>` : ""}</td>
        <td>${seen}</td><td>${batt}</td><td>${d.rssi_dbm == null ? "—" : d.rssi_dbm + " dBm"}</td>
        <td class="wide">${where}</td><td class="wide">${YK.esc(d.firmware_version || "—")}</td></tr>`;
    }).join("");
    document.body.dataset.ready = "1";
  }
  async function load() {
    try {
      data = await YK.getJSON("/api/v1/devices/health" + (site ? `?site=${encodeURIComponent(site)}` : ""));
      render();
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        const row = document.getElementById("devices");
        row.innerHTML = "<tr><td></td></tr>";
        YK.askToken(row.querySelector("td"), e.status);
        return;
      }
      document.getElementById("devices").innerHTML = `<tr><td class="error">${YK.esc(e.message)}</td></tr>`;
      document.body.dataset.ready = "error";
    }
  }
  YK.setupToggle(render);
  render();
  load();
  setInterval(load, 60000);
})();
