// The film page's own styles (the shell has none; the CSP allows inline styles): phone first, light, 16 px
// text, touch targets of at least 44 px, nothing wider than the screen.
const CSS = `
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: #f4f6f8; color: #1b2430;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "PingFang SC", "Microsoft YaHei", sans-serif;
}
#film { max-width: 720px; margin: 0 auto; padding: 12px 12px 48px; overflow-wrap: break-word; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0; }
h2 { font-size: 1.25rem; margin: 0 0 12px; }
h3 { font-size: 1.05rem; margin: 16px 0 8px; }
p { margin: 0 0 8px; }
section, .panel {
  background: #fff; border-radius: 12px; padding: 16px 14px; margin: 0 0 16px;
  box-shadow: 0 1px 3px rgba(16, 24, 40, 0.08);
}
button, .button, select, input[type="text"], input[type="password"], input[type="date"] {
  font: inherit; min-height: 44px; border-radius: 8px;
}
button, .button {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px;
  padding: 8px 16px; border: 1px solid #b8c2cc; background: #fff; color: #1b2430;
  cursor: pointer; text-decoration: none; touch-action: manipulation;
}
button:disabled { opacity: 0.45; cursor: default; }
button.primary, .button.primary { background: #0b5cad; border-color: #0b5cad; color: #fff; font-weight: 600; }
button.danger { color: #b3261e; border-color: #e3a29c; }
button.toggle[aria-pressed="true"] { background: #0b5cad; border-color: #0b5cad; color: #fff; }
select, input[type="text"], input[type="password"], input[type="date"] {
  width: 100%; max-width: 100%; padding: 8px 12px; border: 1px solid #b8c2cc; background: #fff; color: inherit;
}
input[type="checkbox"] { width: 24px; height: 24px; margin: 10px 10px 10px 0; flex: none; }
:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
.field { display: flex; flex-direction: column; gap: 4px; margin: 0 0 12px; }
.field label { font-weight: 600; }
.check { display: flex; flex-wrap: wrap; align-items: center; min-height: 44px; margin: 0 0 12px; }
.check .hint { flex-basis: 100%; }
.hint { color: #55606d; font-size: 0.9rem; }
.error { color: #b3261e; font-weight: 600; }
.error:empty { display: none; }
.notice { background: #fff7e0; border-left: 4px solid #f2a900; padding: 8px 12px; border-radius: 4px; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
header.film-header { display: flex; align-items: flex-start; justify-content: space-between; gap: 12px; margin: 4px 0 16px; }
header.film-header .study { margin: 4px 0 0; color: #3b4654; }
header.film-header .patient { font-weight: 600; margin: 0; }
header.film-header select { width: auto; flex: none; }
.category { border-radius: 10px; padding: 12px 14px; margin: 0 0 12px; background: #e8f4ec; border: 1px solid #9fd0ae; }
.category-3, .category-0 { background: #fff7e0; border-color: #f0cf73; }
.category-4a, .category-4b, .category-4x { background: #fdecea; border-color: #f2a19a; }
.category-name { font-size: 2rem; font-weight: 700; line-height: 1.2; margin: 0 0 4px; }
.category-meaning { font-size: 1.1rem; margin: 0; }
.follow-up { font-size: 1.05rem; }
ul.nodules, ul.second-reads { list-style: none; padding: 0; margin: 0 0 12px; }
ul.nodules li { border-top: 1px solid #e3e7ec; padding: 10px 0; }
ul.nodules li:first-child { border-top: 0; }
.nodule-text { font-weight: 600; }
.key-image { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px; }
.key-image img { width: 160px; height: 160px; background: #000; border-radius: 6px; object-fit: contain; }
.signed { color: #3b4654; font-size: 0.9rem; }
.disclaimer { font-size: 0.95rem; background: #eef3f8; padding: 8px 12px; border-radius: 6px; margin: 8px 0 0; }
.viewer .canvas-box { position: relative; margin: 0 -4px 8px; }
canvas.stack {
  display: block; width: 100%; aspect-ratio: 1 / 1; max-height: 75vh; background: #000; border-radius: 8px;
  touch-action: none; user-select: none; -webkit-user-select: none; -webkit-touch-callout: none;
}
.viewer-status {
  position: absolute; left: 8px; bottom: 8px; margin: 0; padding: 2px 8px; border-radius: 4px;
  background: rgba(0, 0, 0, 0.6); color: #fff; font-size: 0.9rem; pointer-events: none;
}
.slice-caption { display: block; text-align: center; font-weight: 600; font-variant-numeric: tabular-nums; }
input[type="range"] { display: block; width: 100%; height: 44px; margin: 0 0 8px; accent-color: #0b5cad; }
.buttons { display: flex; gap: 8px; }
.buttons > button { flex: 1 1 0; min-width: 0; }
.viewer > .buttons { margin: 0 0 12px; }
.window-row { display: flex; align-items: center; gap: 8px; margin: 0 0 8px; }
.window-row button { padding: 8px 10px; white-space: nowrap; }
.window-row > span { flex: none; font-weight: 600; }
.window-row .buttons { flex: 1; }
.download { display: flex; margin: 0 0 16px; }
.download .button { flex: 1; }
.share-form button.primary { width: 100%; margin: 4px 0 8px; }
.new-link:empty { display: none; }
.new-link { border-top: 1px solid #e3e7ec; padding-top: 8px; }
.new-link .url {
  font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9rem; background: #eef3f8;
  padding: 8px; border-radius: 6px; user-select: all; -webkit-user-select: all; word-break: break-all;
}
.new-link img.qr { display: block; width: 240px; max-width: 100%; height: auto; margin: 12px auto; image-rendering: pixelated; }
.table-box { overflow-x: auto; }
table.links { width: 100%; border-collapse: collapse; font-size: 0.9rem; }
table.links th, table.links td { text-align: left; vertical-align: top; padding: 8px 4px; overflow-wrap: normal; word-break: normal; }
table.links thead th { font-size: 0.8rem; vertical-align: bottom; color: #55606d; border-bottom: 2px solid #d5dbe1; }
table.links tbody tr[data-link-id] { border-top: 1px solid #d5dbe1; }
table.links tbody th { font-weight: 600; }
table.links td.count { text-align: center; }
table.links .created { display: block; font-weight: 400; color: #55606d; font-size: 0.8rem; }
.badge { display: inline-block; margin-top: 2px; padding: 0 6px; border-radius: 4px; background: #eef3f8; font-size: 0.75rem; font-weight: 600; }
tr[data-status="revoked"] th, tr[data-status="revoked"] td, tr[data-status="expired"] th, tr[data-status="expired"] td { color: #6b7683; }
tr.openings-row td { padding-top: 0; }
.row-actions { display: flex; justify-content: flex-end; margin-top: 4px; }
ul.openings { margin: 0; padding: 0 0 4px 16px; font-size: 0.85rem; color: #3b4654; }
.heading-row { display: flex; align-items: center; justify-content: space-between; gap: 8px; margin: 20px 0 8px; }
.heading-row h2 { margin: 0; }
.message h1, .second-factor h1 { margin-bottom: 12px; }
`;

/** Adds the page's style sheet once. */
export function injectStyle(): void {
  if (document.getElementById('film-style')) return;
  const style = document.createElement('style');
  style.id = 'film-style';
  style.textContent = CSS;
  document.head.append(style);
}
