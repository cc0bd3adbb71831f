// The viewer's "Download as…" menu and "Copy link (expires in …)".
// - Download as…: the original for everyone; for editors also presets, rendered as variants. The
//   page POSTs the preset's parameters (the same parameters name the same variant, so a preset
//   downloaded before is there at once), says "Preparing…", polls the image's variants until that
//   one is done (or failed, or the deadline passed: it says so), then downloads its signed URL
//   under a file name that says what it is.
// - Copy link: a link to the bytes, always signed, that works without a session until it expires
//   (1 hour, 1 day or 7 days) goes to the clipboard; where the page may not write the clipboard
//   (plain-HTTP origins), it shows in a field to copy by hand. A toast says until when it works.
// Closing the viewer or opening another image drops a download in preparation.

import * as api from './api.js';
import { byTestId, formatDate, h, sleep } from './dom.js';
import { toast } from './toast.js';

const PRESETS = [
  { label: 'JPEG, 1600 px', suffix: '1600px', params: { width: 1600, height: 1600, fit: 'contain', format: 'jpeg' } },
  { label: 'WebP, 800 × 600 (cropped)', suffix: '800x600', params: { width: 800, height: 600, fit: 'cover', format: 'webp' } },
  { label: 'PNG, original size', suffix: 'full', params: { format: 'png' } },
  { label: 'Grayscale JPEG', suffix: 'grey', params: { format: 'jpeg', grayscale: true } },
];
const EXTENSIONS = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };
const DEADLINE_MS = 90_000; // a queue behind a large upload takes a while; longer is a stuck job
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 2000;

export class Downloads {
  constructor(dialog) {
    this.button = byTestId('download-button', dialog);
    this.menu = byTestId('download-menu', dialog);
    this.original = byTestId('download-original', dialog);
    this.status = byTestId('download-status', dialog);
    this.ttl = byTestId('link-ttl', dialog);
    this.copyButton = byTestId('copy-signed-link', dialog);
    this.linkField = byTestId('signed-link', dialog);
    this.dialog = dialog;
    this.record = null;
    this.generation = 0;
    this.presets = PRESETS.map((preset) => {
      const button = h('button', { type: 'button', class: 'menu-item', 'data-testid': 'download-preset', text: preset.label });
      button.addEventListener('click', () => this.download(preset));
      this.menu.append(h('li', { class: 'editor-only' }, button));
      return button;
    });
    this.button.addEventListener('click', () => this.setOpen(this.menu.hidden));
    this.original.addEventListener('click', () => this.setOpen(false, { focus: true }));
    this.menu.addEventListener('keydown', (event) => this.moveFocus(event));
    this.ttl.addEventListener('change', () => this.labelCopyButton());
    this.copyButton.addEventListener('click', () => this.copyLink());
    this.linkField.addEventListener('focus', () => this.linkField.select());
    this.labelCopyButton();
  }

  /** A new image on show (record: null until it has loaded); anything under way is dropped. */
  show(id, record = null) {
    this.drop();
    this.id = id;
    this.record = record;
    this.setOpen(false);
    this.linkField.hidden = true;
    this.linkField.value = '';
    for (const button of this.presets) button.disabled = !record;
    this.original.parentElement.hidden = !record;
    if (record) {
      this.original.href = record.url;
      this.original.download = record.filename || `${record.id}.${record.format?.toLowerCase() ?? 'img'}`;
      this.original.textContent = `Original (${record.format}, ${record.width} × ${record.height})`;
    }
  }

  /** Forget a download in preparation (the viewer closed or moved on). */
  drop() {
    this.generation += 1;
    this.say('');
  }

  /** Close the menu; true when it was open (Escape then closes it rather than the viewer). */
  closeMenu() {
    if (this.menu.hidden) return false;
    this.setOpen(false, { focus: true });
    return true;
  }

  setOpen(open, { focus = false } = {}) {
    this.menu.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) this.items()[0]?.focus();
    else if (focus) this.button.focus();
  }

  /** The menu's items a keyboard reaches (the presets are hidden from viewers). */
  items() {
    return [...this.menu.querySelectorAll('.menu-item')].filter((item) => item.offsetParent !== null);
  }

  moveFocus(event) {
    const step = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const items = this.items();
    const at = items.indexOf(document.activeElement);
    items[(at + step + items.length) % items.length]?.focus();
  }

  async download(preset) {
    const { id, record, generation } = this;
    this.setOpen(false, { focus: true });
    for (const button of this.presets) button.disabled = true;
    this.say(`Preparing ${preset.label}…`, 'busy');
    try {
      const variant = await this.ready(id, preset.params, generation);
      if (generation !== this.generation) return;
      this.save(variant.url, fileName(record, preset.suffix, variant.params.format));
      this.say(`Downloading ${preset.label}.`);
    } catch (err) {
      if (generation === this.generation) this.say(`Could not prepare ${preset.label}: ${err.message}.`, 'error');
    } finally {
      if (generation === this.generation) for (const button of this.presets) button.disabled = false;
    }
  }

  /** The variant once it is done (throws when it failed or took too long; null when dropped). */
  async ready(id, params, generation) {
    let variant = await api.requestVariant(id, params);
    const { variant_id: variantId } = variant;
    const deadline = Date.now() + DEADLINE_MS;
    for (let delay = FIRST_POLL_MS; variant.state !== 'done'; delay = Math.min(delay * 2, MAX_POLL_MS)) {
      if (variant.state === 'failed') throw new Error(variant.error || 'rendering it failed');
      if (Date.now() > deadline) throw new Error('it is taking too long; try again in a few minutes');
      await sleep(delay);
      if (generation !== this.generation) return null;
      const { variants } = await api.listVariants(id);
      variant = variants.find((v) => v.variant_id === variantId) ?? variant;
    }
    return variant;
  }

  /** Download `url` as `name` (a same-origin link with `download` saves instead of opening). */
  save(url, name) {
    const link = h('a', { href: url, download: name, hidden: true });
    this.dialog.append(link); // inside the modal dialog: the page around it is inert
    link.click();
    link.remove();
  }

  say(message, kind = '') {
    this.status.replaceChildren(...(kind === 'busy' ? [h('span', { class: 'spinner', 'aria-hidden': 'true' })] : []), message);
    this.status.dataset.kind = kind;
  }

  labelCopyButton() {
    const life = this.ttl.selectedOptions[0].textContent;
    this.copyButton.textContent = `Copy link (expires in ${life})`;
  }

  async copyLink() {
    const { id } = this;
    this.linkField.hidden = true;
    let link;
    try {
      link = await api.signedLink(id, this.ttl.value);
    } catch (err) {
      if (this.id === id) toast(`Could not make a link: ${err.message}`, { kind: 'error' });
      return;
    }
    if (this.id !== id) return;
    const url = new URL(link.url, window.location.origin).href;
    const until = formatDate(link.expires_at * 1000);
    try {
      await navigator.clipboard.writeText(url);
      toast(`Link copied. It works until ${until}.`);
    } catch {
      // No clipboard for this page (a plain-HTTP origin other than localhost, or refused).
      this.linkField.value = url;
      this.linkField.hidden = false;
      this.linkField.focus();
      toast(`Copy the link from the field below (Ctrl+C). It works until ${until}.`);
    }
  }
}

/** "beach-800x600.webp" for beach.png rendered by the 800 × 600 preset. */
function fileName(record, suffix, format) {
  const stem = (record.filename || record.id.slice(0, 12)).replace(/\.[^.]*$/, '');
  return `${stem}-${suffix}.${EXTENSIONS[format] ?? format}`;
}
