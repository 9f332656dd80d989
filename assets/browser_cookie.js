// The browser's digitlab token, kept in a cookie so that a reload finds this browser's work on the
// server (digitlab/app/browser_work.py). The server sends the token; this only stores it. SameSite=Strict
// keeps other sites' pages from sending it; Secure is added whenever the page is served over https.
export default function ({ data }) {
  if (!data || typeof data.token !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(data.token)) return;
  const secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${data.name}=${data.token}; Path=/; Max-Age=${data.maxAge}; SameSite=Strict${secure}`;
}
