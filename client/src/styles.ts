import { createHash } from 'node:crypto';

/** The one stylesheet, served from `/styles.css` (the CSP allows styles from this origin only). */
export const STYLES = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --accent: #2f5bd3; --bad: #b42318; --bad-bg: #fdecea; --ok: #067647; --ok-bg: #e7f6ee; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7f9; }
header { background: #fff; border-bottom: 1px solid var(--line); }
header .bar { max-width: 960px; margin: 0 auto; padding: 12px 20px; display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
header .brand { font-weight: 700; text-decoration: none; color: var(--ink); margin-right: auto; }
header a { color: var(--accent); text-decoration: none; }
header .who { color: var(--muted); }
main { max-width: 960px; margin: 24px auto; padding: 0 20px; }
h1 { font-size: 24px; margin: 0 0 16px; }
h2 { font-size: 18px; margin: 24px 0 8px; }
.card > h2:first-child { margin-top: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px; margin-bottom: 20px; }
form.stack { display: grid; gap: 12px; max-width: 360px; }
label { display: grid; gap: 4px; font-weight: 600; }
input[type=text], input[type=email], input[type=password], input[type=search], select { font: inherit; padding: 7px 9px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
input[aria-invalid=true] { border-color: var(--bad); }
button { font: inherit; padding: 7px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
button.quiet { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 0; }
.field-error { color: var(--bad); font-weight: 400; font-size: 13px; }
.alert { padding: 10px 14px; border-radius: 6px; margin-bottom: 16px; }
.alert.bad { background: var(--bad-bg); color: var(--bad); }
.alert.ok { background: var(--ok-bg); color: var(--ok); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 8px 6px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { font-size: 13px; color: var(--muted); font-weight: 600; }
.state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; }
.state.banned { background: var(--bad-bg); color: var(--bad); }
.state.active, .state.created { background: var(--ok-bg); color: var(--ok); }
.state.cancelled { background: #eef0f4; color: var(--muted); }
.muted { color: var(--muted); }
.lags { display: flex; gap: 12px; flex-wrap: wrap; }
.lag { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 160px; }
.lag strong { display: block; font-size: 20px; }
.search { display: flex; gap: 8px; align-items: end; margin-bottom: 12px; flex-wrap: wrap; }
code { font-size: 13px; }
`.trim();

/** A strong validator of the stylesheet, so browsers revalidate it cheaply. */
export const STYLES_ETAG = `"${createHash('sha256').update(STYLES).digest('base64url').slice(0, 16)}"`;
