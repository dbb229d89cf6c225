/**
 * `/status` as HTML: no script at all, so it works without JavaScript and its CSP can forbid
 * every script. Every value goes through `html`, which escapes whatever is not itself `html`.
 */
import type { PublicIncident, PublicStatus } from './public.js';
import { RECENT_DAYS, type UptimeDay } from './types.js';

class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c]);

type Part = Html | string | number | null | undefined | Part[];

function piece(part: Part): string {
  if (part === null || part === undefined) return '';
  if (Array.isArray(part)) return part.map(piece).join('');
  return part instanceof Html ? part.text : escape(String(part));
}

/** A template whose interpolations are escaped, unless they are `html` already (or lists of it). */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  return new Html(strings.reduce((out, text, i) => out + text + (i < parts.length ? piece(parts[i]) : ''), ''));
}

const STATUS_TEXT: Record<PublicStatus['status'], string> = {
  up: 'All systems operational',
  degraded: 'Some systems are degraded',
  down: 'Major outage',
};
const COMPONENT_TEXT: Record<string, string> = { up: 'Operational', degraded: 'Degraded', down: 'Down' };

const when = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const percent = (value: number | null) => (value === null ? 'no data' : `${value.toFixed(value === 100 ? 0 : 2)} %`);

function level(day: UptimeDay): string {
  if (day.upPercent === null) return 'none';
  if (day.upPercent >= 99.9) return 'ok';
  if (day.upPercent >= 99) return 'minor';
  return day.upPercent >= 95 ? 'major' : 'bad';
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b636e;--bg:#fff;--card:#f6f8fa;--line:#d8dee4;--ok:#1a7f37;--minor:#bf8700;--major:#d1580a;--bad:#cf222e;--none:#c9d1d9}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;--line:#30363d;--none:#3a424c}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:58rem;margin:0 auto;padding:1.5rem 1rem 3rem}h1{font-size:1.6rem;margin:0 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .75rem}
.banner{padding:1rem 1.25rem;border-radius:.5rem;font-weight:600;color:#fff}.banner.up{background:var(--ok)}.banner.degraded{background:var(--major)}.banner.down{background:var(--bad)}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:1rem 1.25rem;margin:0 0 1rem}
.row{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.25rem 1rem;align-items:baseline}
.name{font-weight:600}.state.up{color:var(--ok)}.state.degraded{color:var(--major)}.state.down{color:var(--bad)}
.bars{display:flex;gap:2px;list-style:none;margin:.6rem 0 .3rem;padding:0;height:2rem}.bars li{flex:1;border-radius:2px;min-width:1px}
.ok{background:var(--ok)}.minor{background:var(--minor)}.major{background:var(--major)}.bad{background:var(--bad)}.none{background:var(--none)}
.legend{display:flex;justify-content:space-between;color:var(--muted);font-size:.85rem}
.muted{color:var(--muted)}.small{font-size:.85rem}ol.updates{list-style:none;padding:0;margin:.5rem 0 0}ol.updates li{border-top:1px solid var(--line);padding:.5rem 0}
.tag{display:inline-block;font-size:.75rem;font-weight:600;padding:0 .4rem;border-radius:.25rem;border:1px solid var(--line)}
.message{white-space:pre-wrap;overflow-wrap:anywhere;margin:.25rem 0 0}h3{font-size:1.05rem;margin:0;overflow-wrap:anywhere}a{color:inherit}
`;

function page(title: string, nonce: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style nonce="${nonce}">${new Html(STYLE)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.text;
}

function incidentCard(incident: PublicIncident): Html {
  return html`<article class="card">
<div class="row"><h3>${incident.title}</h3><span class="tag">${incident.status}</span></div>
<p class="muted small">Impact ${incident.impact.toLowerCase()}${incident.components.length ? html` · affects ${incident.components.join(', ')}` : ''} · started ${when(incident.startedAt)}${incident.resolvedAt ? html` · resolved ${when(incident.resolvedAt)}` : ''}</p>
<ol class="updates">${incident.updates.map((update) => html`<li><span class="tag">${update.status}</span> <time class="muted small" datetime="${update.at}">${when(update.at)}</time><p class="message">${update.message}</p></li>`)}</ol>
</article>`;
}

function componentCard(component: PublicStatus['components'][number]): Html {
  const days = component.uptime;
  return html`<section class="card" aria-label="${component.name}">
<div class="row"><span class="name">${component.name}</span><span class="state ${component.status}">${COMPONENT_TEXT[component.status] ?? component.status}</span></div>
<ol class="bars" aria-hidden="true">${days.map((day) => html`<li class="${level(day)}" title="${day.date}: ${percent(day.upPercent)}"></li>`)}</ol>
<div class="legend"><span>${days.length} days ago</span><span>${component.uptimePercent === null ? 'no data yet' : `${percent(component.uptimePercent)} uptime`}</span><span>today</span></div>
</section>`;
}

/** The whole page; `nonce` is the one the response's CSP allows for the stylesheet. */
export function renderStatusPage(status: PublicStatus, nonce: string): string {
  const open = status.incidents.filter((incident) => !incident.resolvedAt);
  const resolved = status.incidents.filter((incident) => incident.resolvedAt);
  return page('Status', nonce, html`<h1>Status</h1>
<p class="banner ${status.status}">${STATUS_TEXT[status.status]}</p>
${open.length ? html`<h2>Open incidents</h2>${open.map(incidentCard)}` : ''}
<h2>Components</h2>
${status.components.map(componentCard)}
${status.maintenance.length ? html`<h2>Scheduled maintenance</h2>${status.maintenance.map((window) => html`<article class="card">
<div class="row"><h3>${window.name}</h3>${window.active ? html`<span class="tag">IN PROGRESS</span>` : ''}</div>
<p class="muted small"><time datetime="${window.startsAt}">${when(window.startsAt)}</time> – <time datetime="${window.endsAt}">${when(window.endsAt)}</time></p>
</article>`)}` : ''}
<h2>Recently resolved</h2>
${resolved.length ? resolved.map(incidentCard) : html`<p class="muted">No incidents resolved in the last ${RECENT_DAYS} days.</p>`}
<p class="muted small">Updated ${when(status.updatedAt)} · <a href="/api/status">JSON</a></p>`);
}

/** 401 for STATUS_PAGE=private without a session: a plain page with a sign-in link. */
export function renderSignIn(nonce: string): string {
  return page('Sign in to see the status', nonce, html`<h1>Status</h1>
<p class="card">This status page is for signed-in users. <a href="/login?next=%2Fstatus">Sign in</a> to see it.</p>`);
}
