// The sign-in form. It takes the place of the search box and the results while it is open:
// "required" when reads need a session (nothing else to show), optional when the user chose
// "Sign in" on a public library (Cancel or Escape close it then). Errors are the server's
// problem `detail` (a 429 adds when to try again, api.js). The password never outlives a try.

import { byTestId } from './dom.js';

export class SignInForm {
  /** onSignIn(username, password) resolves when signed in, rejects with the error to show. */
  constructor({ onSignIn, onCancel }) {
    this.panel = byTestId('signin-panel');
    this.form = byTestId('signin-form', this.panel);
    this.notice = byTestId('signin-notice', this.panel);
    this.error = byTestId('signin-error', this.panel);
    this.username = byTestId('signin-username', this.panel);
    this.password = byTestId('signin-password', this.panel);
    this.submit = byTestId('signin-submit', this.panel);
    this.cancel = byTestId('signin-cancel', this.panel);
    this.onSignIn = onSignIn;
    this.onCancel = onCancel;
    this.required = false;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.cancel.addEventListener('click', () => this.dismiss());
    this.panel.addEventListener('keydown', (event) => event.key === 'Escape' && this.dismiss());
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /**
   * Show the form (`notice`: why, e.g. the session expired; `username`: who was signed in) and put
   * the cursor where typing starts.
   */
  open({ required, notice = '', username = '' }) {
    if (username) this.username.value = username;
    this.required = required;
    this.cancel.hidden = required;
    this.notice.textContent = notice;
    this.notice.hidden = !notice;
    this.showError('');
    this.panel.hidden = false;
    document.body.dataset.signin = 'open';
    (this.username.value ? this.password : this.username).focus();
  }

  close() {
    this.panel.hidden = true;
    delete document.body.dataset.signin;
    this.password.value = '';
    this.showError('');
  }

  dismiss() {
    if (this.required || !this.isOpen) return;
    this.close();
    this.onCancel();
  }

  async send() {
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.showError('Enter your username and password.');
      (username ? this.password : this.username).focus();
      return;
    }
    this.setBusy(true);
    try {
      await this.onSignIn(username, password);
    } catch (err) {
      this.showError(err.message);
      this.password.select();
      this.password.focus();
    } finally {
      this.setBusy(false);
    }
  }

  setBusy(busy) {
    this.submit.disabled = busy;
    this.form.setAttribute('aria-busy', String(busy));
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }
}
