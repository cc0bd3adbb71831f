// The ways to add images from the header: the Upload button (a file picker) and "Link" (a dialog
// for one image's http(s) address, fetched by the server). Both are editor-only controls; files
// dropped on the page are the third way (drop.js). Every addition shows as a row in the upload
// panel (uploads.js), which follows it until it is indexed or says why it was not.

import { byTestId } from './dom.js';

/** Wire the header's controls to `uploads`; `canAdd()` says whether the user may add images. */
export function wireAddImages({ uploads, canAdd }) {
  const picker = byTestId('upload-input');
  byTestId('upload-button').addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    if (canAdd()) uploads.add(picker.files);
    picker.value = '';
  });
  const dialog = new LinkDialog({ onLink: (url) => uploads.addUrl(url) });
  byTestId('url-button').addEventListener('click', () => dialog.open());
  return dialog;
}

class LinkDialog {
  constructor({ onLink }) {
    this.dialog = byTestId('url-dialog');
    this.input = byTestId('url-input', this.dialog);
    this.error = byTestId('url-error', this.dialog);
    byTestId('url-form', this.dialog).addEventListener('submit', (event) => {
      event.preventDefault();
      const url = this.read();
      if (!url) return;
      this.close();
      onLink(url);
    });
    byTestId('url-cancel', this.dialog).addEventListener('click', () => this.close());
    this.dialog.addEventListener('click', (event) => event.target === this.dialog && this.close());
  }

  open() {
    this.input.value = '';
    this.showError('');
    this.dialog.showModal(); // focuses the input; Escape closes it
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** The address typed, or '' after saying what is wrong with it. */
  read() {
    const text = this.input.value.trim();
    let url = null;
    try {
      url = new URL(text);
    } catch {
      /* said below */
    }
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return url.href;
    this.showError(text ? 'That is not an http or https address.' : 'Enter the address of an image.');
    this.input.focus();
    return '';
  }

  showError(message) {
    this.error.textContent = message;
    this.error.hidden = !message;
  }
}
