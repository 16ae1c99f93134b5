// Shared by the pages: language (Japanese by default, English toggle), JST time formatting, fetch with the API token.
"use strict";
const YK = (() => {
  // The API token arrives in the link's fragment (/fields#token=yk_...), which browsers never send to the
  // server (so it is in no access log); it is kept in this browser's localStorage and removed from the
  // address bar. Without one, the page asks for it.
  const TOKEN_KEY = "yukimizu.token";
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromHash) {
    try { localStorage.setItem(TOKEN_KEY, fromHash); } catch (e) { /* private mode: this visit only */ }
    history.replaceState(null, "", location.pathname + location.search);
  }
  let token = fromHash || (() => { try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; } })();
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
  function api(url, opts = {}) {
    const headers = Object.assign({"Accept": "application/json"}, opts.headers || {});
    if (token) headers["Authorization"] = "Bearer " + token;
    return fetch(url, Object.assign({}, opts, {headers}));
  }
  async function getJSON(url) {
    const r = await api(url);
    if (!r.ok) { const e = new Error(`${url}: HTTP ${r.status}`); e.status = r.status; throw e; }
    return r.json();
  }
  const LOGIN = {
    ja: {401: "アクセス用のトークンを入力してください（市役所から届いたリンクを開くと自動で入ります）。",
         403: "このトークンではこのページを見られません。別のトークンを入力してください。", save: "保存"},
    en: {401: "Enter your access token (opening the link the city sent you fills it in).",
         403: "This token may not see this page. Enter another token.", save: "Save"},
  };
  // In place of the page's content when the API says 401 (no or bad token) or 403 (not this token's).
  function askToken(box, status) {
    const m = LOGIN[lang] || LOGIN.ja;
    box.innerHTML = `<form class="login"><p>${esc(m[status === 403 ? 403 : 401])}</p>
      <input name="token" type="password" autocomplete="off" size="30" aria-label="token"> <button>${esc(m.save)}</button></form>`;
    box.querySelector("form").onsubmit = ev => {
      ev.preventDefault();
      token = box.querySelector("input").value.trim();
      try { localStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
      location.reload();
    };
    document.body.dataset.ready = "login";
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
  return {t, jst, ago, esc, api, getJSON, askToken, setupToggle, get lang() { return lang; }};
})();
