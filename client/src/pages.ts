import { ANTI_FORGERY_FIELD } from './anti-forgery.js';
import { html, type SafeHtml } from './html.js';
import type { ErrorItem, Visitor } from './upstream.js';

/** What every page knows: who is visiting (unknown when auth did not answer) and the token its forms carry. */
export interface PageContext {
  visitor: Visitor | undefined;
  antiForgeryToken: string;
}

/** An order as orders lists it. */
export interface OrderView {
  id: string;
  ticketId: string;
  status: string;
  createdAt: string;
}

/** A user as auth's admin list has them. */
export interface AdminUserView {
  id: string;
  email: string;
  role: string;
  banned: boolean;
  bannedAt: string | null;
  banReason: string | null;
}

/** How the last ban event reached one service, from its metrics. */
export interface PropagationView {
  name: string;
  /** Publish to apply of the last ban event the service applied, in seconds; undefined when it applied none yet. */
  lagSeconds?: number;
  caughtUp?: boolean;
  /** Why the service's metrics could not be read. */
  unavailable?: string;
}

export type UserStateFilter = 'all' | 'banned' | 'active';

const antiForgeryInput = (context: PageContext): SafeHtml => html`<input type="hidden" name="${ANTI_FORGERY_FIELD}" value="${context.antiForgeryToken}">`;

/** The messages for one field, shown under it. */
function fieldErrors(errors: readonly ErrorItem[], field: string): SafeHtml {
  return html`${errors.filter((error) => error.field === field).map((error) => html`<span class="field-error" id="${field}-error">${error.message}</span>`)}`;
}

/** The messages that name none of a form's fields, shown above it. */
function formErrors(errors: readonly ErrorItem[], fields: readonly string[]): SafeHtml {
  const general = errors.filter((error) => error.field === undefined || !fields.includes(error.field));
  return html`${general.map((error) => html`<p class="alert bad" role="alert">${error.message}</p>`)}`;
}

const invalid = (errors: readonly ErrorItem[], field: string): string => (errors.some((error) => error.field === field) ? 'true' : 'false');

function navigation(context: PageContext): SafeHtml {
  const { visitor } = context;
  if (visitor === undefined) return html``;
  if (visitor.kind !== 'user') return html`<a href="/signin">Sign in</a><a href="/signup">Sign up</a>`;
  const { user } = visitor;
  return html`<span class="who">Signed in as <strong id="current-email">${user.email}</strong></span>
    <a href="/orders">My orders</a>
    ${user.role === 'admin' ? html`<a href="/admin">Admin</a>` : ''}
    <form class="inline" method="post" action="/signout">${antiForgeryInput(context)}<button class="quiet" type="submit">Sign out</button></form>
    <form class="inline" method="post" action="/signout-all">${antiForgeryInput(context)}<button class="quiet" type="submit">Sign out everywhere</button></form>`;
}

/** The frame of every page: no inline script or style, one stylesheet from this origin. */
export function layout(context: PageContext, title: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ticketing</title>
<link rel="stylesheet" href="/styles.css">
</head>
<body>
<header><div class="bar"><a class="brand" href="/">ticketing</a>${navigation(context)}</div></header>
<main>
${body}
</main>
</body>
</html>`;
}

const BANNED_NOTICE = html`<p class="alert bad" role="alert" id="banned">Your account is banned, and you have been signed out.</p>`;

export function homePage(context: PageContext): SafeHtml {
  const { visitor } = context;
  let body: SafeHtml;
  if (visitor?.kind === 'user') {
    body = html`<h1>Welcome, ${visitor.user.email}</h1>
      <div class="card"><p>Every service checks your session itself, and a ban reaches all of them within milliseconds.</p>
      <p><a href="/orders">Your orders</a>${visitor.user.role === 'admin' ? html` · <a href="/admin">Admin console</a>` : ''}</p></div>`;
  } else {
    body = html`${visitor?.kind === 'banned' ? BANNED_NOTICE : ''}<h1>ticketing</h1>
      <div class="card"><p><a href="/signin">Sign in</a> or <a href="/signup">sign up</a> to place orders.</p></div>`;
  }
  return layout(context, 'Home', body);
}

/** The sign-up and sign-in forms: email and password, each with its errors under it. */
export function credentialsPage(context: PageContext, form: { kind: 'signup' | 'signin'; email: string; errors: readonly ErrorItem[] }): SafeHtml {
  const { kind, email, errors } = form;
  const title = kind === 'signup' ? 'Sign up' : 'Sign in';
  const other = kind === 'signup' ? html`Have an account? <a href="/signin">Sign in</a>` : html`New here? <a href="/signup">Sign up</a>`;
  return layout(context, title, html`${context.visitor?.kind === 'banned' ? BANNED_NOTICE : ''}<h1>${title}</h1>
    <div class="card">
    ${formErrors(errors, ['email', 'password'])}
    <form class="stack" method="post" action="/${kind}" novalidate>
      ${antiForgeryInput(context)}
      <label for="email">Email <input type="email" id="email" name="email" value="${email}" autocomplete="email" aria-invalid="${invalid(errors, 'email')}" required>${fieldErrors(errors, 'email')}</label>
      <label for="password">Password <input type="password" id="password" name="password" autocomplete="${kind === 'signup' ? 'new-password' : 'current-password'}" aria-invalid="${invalid(errors, 'password')}" required>${fieldErrors(errors, 'password')}</label>
      <button type="submit">${title}</button>
    </form>
    <p class="muted">${other}</p>
    </div>`);
}

const formatTime = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

export function ordersPage(context: PageContext, view: { orders: readonly OrderView[]; ticketId: string; errors: readonly ErrorItem[] }): SafeHtml {
  const { orders, ticketId, errors } = view;
  const rows = orders.map((order) => html`<tr data-order="${order.id}">
      <td><code>${order.ticketId}</code></td>
      <td><span class="state ${order.status}">${order.status}</span></td>
      <td class="muted">${formatTime(order.createdAt)}</td>
      <td>${order.status === 'created'
        ? html`<form class="inline" method="post" action="/orders/${encodeURIComponent(order.id)}/cancel">${antiForgeryInput(context)}<button class="quiet" type="submit">Cancel</button></form>`
        : ''}</td>
    </tr>`);
  return layout(context, 'My orders', html`<h1>My orders</h1>
    <div class="card">
    ${formErrors(errors, ['ticketId'])}
    <form class="stack" method="post" action="/orders" novalidate>
      ${antiForgeryInput(context)}
      <label for="ticketId">Ticket <input type="text" id="ticketId" name="ticketId" value="${ticketId}" maxlength="64" aria-invalid="${invalid(errors, 'ticketId')}" required>${fieldErrors(errors, 'ticketId')}</label>
      <button type="submit">Place order</button>
    </form>
    </div>
    <div class="card">
    ${orders.length === 0 ? html`<p class="muted" id="no-orders">No orders yet.</p>` : html`<table id="orders"><thead><tr><th>Ticket</th><th>Status</th><th>Placed</th><th></th></tr></thead><tbody>${rows}</tbody></table>`}
    </div>`);
}

function propagationPanel(propagation: readonly PropagationView[]): SafeHtml {
  if (propagation.length === 0) return html`<p class="muted">No services' metrics are configured (<code>BAN_METRICS_URLS</code>).</p>`;
  return html`<div class="lags">${propagation.map((service) => {
    let value: SafeHtml;
    if (service.unavailable !== undefined) value = html`<strong>—</strong><span class="muted">${service.unavailable}</span>`;
    else if (service.lagSeconds === undefined) value = html`<strong>—</strong><span class="muted">no ban event yet</span>`;
    else value = html`<strong>${formatMs(service.lagSeconds * 1000)}</strong><span class="muted">${service.caughtUp === false ? 'replaying' : 'caught up'}</span>`;
    return html`<div class="lag" data-service="${service.name}"><span>${service.name}</span>${value}</div>`;
  })}</div>`;
}

function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export interface AdminView {
  users: readonly AdminUserView[];
  q: string;
  state: UserStateFilter;
  propagation: readonly PropagationView[];
  /** Errors of a ban or unban, shown in that user's row. */
  rowErrors?: { userId: string; errors: readonly ErrorItem[] };
}

export function adminPage(context: PageContext, view: AdminView): SafeHtml {
  const { users, q, state, propagation, rowErrors } = view;
  const self = context.visitor?.kind === 'user' ? context.visitor.user.id : undefined;
  const back = html`<input type="hidden" name="q" value="${q}"><input type="hidden" name="state" value="${state}">`;
  const rows = users.map((user) => {
    const errors = rowErrors?.userId === user.id ? rowErrors.errors : [];
    const reasonId = `reason-${user.id}`;
    let action: SafeHtml;
    if (user.id === self) action = html`<span class="muted">you</span>`;
    else if (user.banned) {
      action = html`<form class="inline" method="post" action="/admin/users/${encodeURIComponent(user.id)}/unban">${antiForgeryInput(context)}${back}<button class="quiet" type="submit">Unban</button></form>`;
    } else {
      action = html`<form class="inline" method="post" action="/admin/users/${encodeURIComponent(user.id)}/ban">${antiForgeryInput(context)}${back}
        <label for="${reasonId}" class="muted">Reason</label>
        <input type="text" id="${reasonId}" name="reason" maxlength="500" aria-invalid="${invalid(errors, 'reason')}" required>
        <button class="danger" type="submit">Ban</button></form>`;
    }
    return html`<tr data-email="${user.email}">
      <td>${user.email}<br><code class="muted">${user.id}</code></td>
      <td>${user.role}</td>
      <td>${user.banned
        ? html`<span class="state banned">banned</span>${user.banReason === null ? '' : html` <span class="muted">${user.banReason}</span>`}${user.bannedAt === null ? '' : html`<br><span class="muted">${formatTime(user.bannedAt)}</span>`}`
        : html`<span class="state active">active</span>`}</td>
      <td>${action}${formErrors(errors, ['reason'])}${fieldErrors(errors, 'reason')}</td>
    </tr>`;
  });
  const option = (value: UserStateFilter, label: string) => html`<option value="${value}"${state === value ? html` selected` : ''}>${label}</option>`;
  return layout(context, 'Admin', html`<h1>Admin console</h1>
    <div class="card">
    <h2>How long the last ban took to reach each service</h2>
    ${propagationPanel(propagation)}
    </div>
    <div class="card">
    ${rowErrors !== undefined && !users.some((user) => user.id === rowErrors.userId) ? formErrors(rowErrors.errors, []) : ''}
    <form class="search" method="get" action="/admin">
      <label for="q">Email or id <input type="search" id="q" name="q" value="${q}" maxlength="254"></label>
      <label for="state">State <select id="state" name="state">${option('all', 'All')}${option('active', 'Active')}${option('banned', 'Banned')}</select></label>
      <button type="submit">Search</button>
    </form>
    ${users.length === 0 ? html`<p class="muted" id="no-users">No users match.</p>` : html`<table id="users"><thead><tr><th>User</th><th>Role</th><th>State</th><th></th></tr></thead><tbody>${rows}</tbody></table>`}
    </div>`);
}

/** A page that says one thing: an error, a refusal, or that a service is unavailable. */
export function messagePage(context: PageContext, title: string, message: string, extra: SafeHtml = html``): SafeHtml {
  return layout(context, title, html`<h1>${title}</h1><div class="card"><p class="alert bad" role="alert">${message}</p>${extra}</div>`);
}

export function bannedPage(context: PageContext): SafeHtml {
  return layout(context, 'Banned', html`${BANNED_NOTICE}<h1>Account banned</h1><div class="card"><p>This page is refused to a banned account.</p></div>`);
}
