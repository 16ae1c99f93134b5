// Shared by the pages: language (Japanese by default, English toggle), JST time formatting, fetch.
"use strict";
const YK = (() => {
  const stored = (() => { try { return localStorage.getItem("yukimizu.lang"); } catch (e) { return null; } })();
  const params = new URLSearchParams(location.search);
  let lang = params.get("lang") || stored || "ja";
  const jstFormat = {
    ja: new Intl.DateTimeFormat("ja-JP", {timeZone: "Asia/Tokyo", month: "numeric", day: "numeric",
                                         hour: "2-digit", minute: "2-digit", hour12: false}),
    en: new Intl.DateTimeFormat("en-GB", {timeZone: "Asia/Tokyo", month: "short", day: "numeric",
                                         hour: "2-digit", minute: "2-digit", hour12: false}),
  };
  function t(dict, key) { return (dict[lang] && dict[lang][key]) || dict.ja[key] || key; }
  // Times are stored in UTC and shown in JST, always labelled.
  function jst(ms) { return ms == null ? "—" : jstFormat[lang].format(new Date(ms)) + " JST"; }
  function ago(ms, now) {
    if (ms == null) return "";
    const min = Math.max(0, Math.round((now - ms) / 60000));
    if (min < 60) return lang === "ja" ? `${min}分前` : `${min} min ago`;
    const h = Math.round(min / 60);
    if (h < 48) return lang === "ja" ? `${h}時間前` : `${h} h ago`;
    const d = Math.round(h / 24);
    return lang === "ja" ? `${d}日前` : `${d} days ago`;
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }
  async function getJSON(url) {
    const r = await fetch(url, {headers: {"Accept": "application/json"}});
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }
  function setupToggle(render) {
    const btn = document.getElementById("lang");
    document.documentElement.lang = lang;
    btn.textContent = lang === "ja" ? "English" : "日本語";
    btn.onclick = () => {
      lang = lang === "ja" ? "en" : "ja";
      try { localStorage.setItem("yukimizu.lang", lang); } catch (e) { /* private mode */ }
      document.documentElement.lang = lang;
      btn.textContent = lang === "ja" ? "English" : "日本語";
      render();
    };
  }
  return {t, jst, ago, esc, getJSON, setupToggle, get lang() { return lang; }};
})();
