// Who uses the page: GET /api/v1/auth/me decides on load; the header shows the name, the role and
// "Sign out" (or "Sign in"). The rules:
// - Upload, links, delete and tag editing are for editors and admins: elements of class
//   `editor-only` are hidden (CSS keyed on body[data-role]) for viewers and anonymous users.
// - When reads are private, nobody signed in gets the sign-in form instead of search and library.
// - A 401 on a page that was signed in means the session ended: the form says so; the search box
//   keeps its text (it is only hidden) and the search runs again once signed in.
// - The server renews the cookie on requests past half its life. A page left open renews on the
//   first interaction past half the life it last heard of (`expires_at`), by asking /auth/me.
//   No timers: an idle page asks nothing.

import * as api from './api.js';
import { byTestId } from './dom.js';
import { SignInForm } from './signin.js';

const EDITORS = new Set(['editor', 'admin']);
const EXPIRED = 'urn:imagesearch:problem:session-expired';
const EXPIRED_TEXT = 'Your session expired — sign in again.';
const RENEW_GAP_MS = 30_000; // at most one renewal per 30 s, even with a clock far off the server's

export class Session {
  /** onChange(session, why): why is 'loaded', 'signed-in', 'signed-out' or 'expired'. */
  constructor({ onChange }) {
    this.onChange = onChange;
    this.user = null; // {name, role}
    this.publicRead = false;
    this.renewAt = Infinity;
    this.renewing = false;
    this.account = byTestId('account');
    this.name = byTestId('account-name');
    this.role = byTestId('account-role');
    this.error = byTestId('account-error');
    this.signInButton = byTestId('sign-in-button');
    this.form = new SignInForm({
      onSignIn: (username, password) => this.signIn(username, password),
      onCancel: () => this.signInButton.focus(),
    });
    this.signInButton.addEventListener('click', () => this.form.open({ required: !this.publicRead }));
    byTestId('sign-out-button').addEventListener('click', () => this.signOut());
    api.onUnauthenticated((problem) => this.lost(problem));
    for (const type of ['pointerdown', 'keydown']) {
      document.addEventListener(type, () => this.renewIfDue(), { capture: true, passive: true });
    }
  }

  get canEdit() {
    return EDITORS.has(this.user?.role);
  }

  /** May the page search and list now (signed in, or reads are public)? */
  get mayRead() {
    return Boolean(this.user) || this.publicRead;
  }

  async load() {
    try {
      const state = await api.me();
      this.publicRead = state.public_read;
      this.set(state.authenticated ? state : null, state.expires_at);
    } catch {
      this.publicRead = true; // unknown: let the searches try, and say what fails (or ask to sign in)
    }
    if (!this.mayRead) this.form.open({ required: true });
    this.onChange(this, 'loaded');
  }

  async signIn(username, password) {
    const session = await api.login(username, password);
    this.set(session, session.expires_at);
    this.form.close();
    this.onChange(this, 'signed-in');
  }

  async signOut() {
    this.error.hidden = true;
    try {
      await api.logout();
    } catch (err) {
      if (err.status === 401) return this.lost(err.problem); // it had ended already
      this.error.textContent = `Could not sign out: ${err.message}`;
      this.error.hidden = false;
      return;
    }
    this.set(null);
    if (!this.publicRead) this.form.open({ required: true });
    this.onChange(this, 'signed-out');
  }

  /** A request was refused for want of a session (api.js): ask to sign in (again). */
  lost(problem) {
    if (this.form.isOpen) return; // a burst of refusals: the first one opened it
    const expired = Boolean(this.user) || problem?.type === EXPIRED;
    const username = this.user?.name;
    this.set(null);
    this.form.open({ required: !this.publicRead, notice: expired ? EXPIRED_TEXT : 'Sign in to go on.', username });
    this.onChange(this, expired ? 'expired' : 'signed-out');
  }

  renewIfDue() {
    if (!this.user || this.renewing || Date.now() < this.renewAt) return;
    this.renewing = true;
    this.renewAt = Date.now() + RENEW_GAP_MS;
    api.me().then(
      (state) => {
        if (state.authenticated) this.set(state, state.expires_at);
        else this.lost({ type: EXPIRED });
      },
      () => {}, // unreachable now: a later interaction asks again
    ).finally(() => (this.renewing = false));
  }

  set(user, expiresAt = null) {
    this.user = user ? { name: user.name, role: user.role } : null;
    const left = Date.parse(expiresAt ?? '') - Date.now();
    this.renewAt = this.user && Number.isFinite(left) ? Date.now() + Math.max(left / 2, RENEW_GAP_MS) : Infinity;
    document.body.dataset.role = this.user?.role ?? 'anonymous';
    this.name.textContent = this.user?.name ?? '';
    this.role.textContent = this.user?.role ?? '';
    this.account.hidden = !this.user;
    this.signInButton.hidden = Boolean(this.user);
    this.error.hidden = true;
  }
}
