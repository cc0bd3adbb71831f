// The image viewer: a modal <dialog> with the original, its metadata (for a camera frame, the
// camera's name and when the frame was taken) and tags, "Find similar", "Download as…", a link to
// the page and a signed link to the picture (downloads.js). A tag chip closes it and filters by
// that tag. Editors also get "Delete", tag editing (a × per tag, a field to add one) and the
// download presets; those controls are `editor-only` (session.js hides them).

import { ApiError, changeTags, deleteImage, getImage } from './api.js';
import { byTestId, formatBytes, formatDate, formatScore, h } from './dom.js';
import { Downloads } from './downloads.js';
import { displayName } from './results.js';
import { normaliseTag, onTagClick, tagChips } from './tags.js';

export const shareUrl = (id) => `${window.location.origin}/?image=${encodeURIComponent(id)}`;

export class Viewer {
  constructor({ cameraName, onSimilar, onClose, onTag, onTagsChanged, onDeleted }) {
    this.cameraName = cameraName;
    this.dialog = byTestId('viewer');
    this.image = byTestId('viewer-image', this.dialog);
    this.title = byTestId('viewer-title', this.dialog);
    this.error = byTestId('viewer-error', this.dialog);
    this.meta = byTestId('viewer-meta', this.dialog);
    this.tags = byTestId('viewer-tags', this.dialog);
    this.similar = byTestId('similar-button', this.dialog);
    this.original = byTestId('open-original', this.dialog);
    this.link = byTestId('share-link', this.dialog);
    this.copyStatus = byTestId('copy-status', this.dialog);
    this.closeButton = byTestId('viewer-close', this.dialog);
    this.tagInput = byTestId('tag-add-input', this.dialog);
    this.editError = byTestId('viewer-edit-error', this.dialog);
    this.onTagsChanged = onTagsChanged;
    this.onDeleted = onDeleted;
    this.downloads = new Downloads(this.dialog);
    this.id = null;
    this.record = null;

    this.closeButton.addEventListener('click', () => this.close());
    this.similar.addEventListener('click', () => this.id && onSimilar(this.id));
    byTestId('copy-link', this.dialog).addEventListener('click', () => this.copyLink());
    onTagClick(this.tags, onTag);
    this.tags.addEventListener('click', (event) => {
      const remove = event.target.closest('[data-testid="tag-remove"]');
      if (remove) this.editTags({ remove: [remove.dataset.tag] });
    });
    byTestId('tag-add-form', this.dialog).addEventListener('submit', (event) => {
      event.preventDefault();
      this.addTag();
    });
    byTestId('delete-button', this.dialog).addEventListener('click', () => this.deleteShown());
    this.link.addEventListener('focus', () => this.link.select());
    // A click on the backdrop lands on the <dialog> itself; clicks inside land on its children.
    this.dialog.addEventListener('click', (event) => event.target === this.dialog && this.close());
    // Escape closes an open download menu first, then the viewer.
    this.dialog.addEventListener('cancel', (event) => this.downloads.closeMenu() && event.preventDefault());
    this.dialog.addEventListener('close', () => {
      const { opener } = this;
      this.downloads.drop();
      this.id = null;
      this.opener = null;
      if (opener?.isConnected) opener.focus();
      onClose();
    });
  }

  /** The id on show, or null when closed. */
  get openId() {
    return this.dialog.open ? this.id : null;
  }

  /** Show image `id`; `record` (from the grid) renders at once, otherwise it is fetched. */
  async open(id, record = null, opener = null) {
    this.id = id;
    this.opener = opener ?? (this.dialog.open ? this.opener : document.activeElement);
    this.error.hidden = true;
    this.showEditError('');
    this.tagInput.value = '';
    this.dialog.classList.remove('unavailable');
    this.copyStatus.textContent = '';
    this.link.value = shareUrl(id);
    if (record) this.render(record);
    else this.renderPlaceholder(id);
    if (!this.dialog.open) this.dialog.showModal();
    this.closeButton.focus();
    if (record) return;
    try {
      const fetched = await getImage(id);
      if (this.id === id) this.render(fetched);
    } catch (err) {
      if (this.id !== id) return;
      const gone = err instanceof ApiError && err.status === 404;
      this.showError(gone ? 'This image does not exist (any more).' : `Could not load this image: ${err.message}`);
    }
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  renderPlaceholder(id) {
    this.record = null;
    this.title.textContent = 'Loading…';
    this.meta.replaceChildren();
    this.showTags([]);
    this.image.removeAttribute('src');
    this.image.alt = '';
    this.original.href = `/images/${encodeURIComponent(id)}`;
    this.similar.disabled = true;
    this.downloads.show(id);
  }

  render(record) {
    this.record = record;
    this.title.textContent = displayName(record);
    this.similar.disabled = false;
    this.original.href = record.url;
    this.downloads.show(record.id, record);
    this.image.alt = displayName(record);
    if (record.width && record.height) {
      this.image.width = record.width;
      this.image.height = record.height;
    }
    // Show the (cached) thumbnail at once, then swap in the original when it has arrived.
    this.image.src = record.thumb_url;
    const full = new Image();
    full.addEventListener('load', () => this.id === record.id && (this.image.src = record.url), { once: true });
    full.src = record.url;
    this.meta.replaceChildren(...metadataRows(record, this.cameraName).flatMap(([term, value]) => [
      h('dt', { text: term }),
      h('dd', {}, value),
    ]));
    this.showTags(record.tags ?? []);
  }

  showTags(tags) {
    this.tags.replaceChildren(...[tagChips(tags, Infinity, { removable: true })].filter(Boolean));
    this.tags.hidden = !tags.length;
  }

  addTag() {
    const tag = normaliseTag(this.tagInput.value);
    if (tag) return this.editTags({ add: [tag] }).then((ok) => ok && (this.tagInput.value = ''));
    this.showEditError('A tag is 1 to 64 letters, digits, spaces or . : / + - _');
    this.tagInput.focus();
  }

  /** PATCH the shown image's tags; true when the server took the change. */
  async editTags(change) {
    const { id } = this;
    this.showEditError('');
    try {
      const { tags } = await changeTags(id, change);
      this.onTagsChanged(id, tags);
      if (this.id === id) {
        if (this.record) this.record.tags = tags;
        this.showTags(tags);
      }
      return true;
    } catch (err) {
      if (this.id === id) this.showEditError(`Could not change the tags: ${err.message}`);
      return false;
    }
  }

  async deleteShown() {
    const { id } = this;
    const name = this.record ? displayName(this.record) : 'this image';
    if (!id || !window.confirm(`Delete “${name}” from the library? This cannot be undone.`)) return;
    try {
      await deleteImage(id);
    } catch (err) {
      if (this.id === id) this.showEditError(`Could not delete it: ${err.message}`);
      return;
    }
    if (this.id === id) this.close();
    this.onDeleted(id);
  }

  showEditError(message) {
    this.editError.textContent = message;
    this.editError.hidden = !message;
  }

  showError(message) {
    this.record = null;
    this.title.textContent = 'Image unavailable';
    this.error.textContent = message;
    this.error.hidden = false;
    this.dialog.classList.add('unavailable'); // nothing to show, open, find or share
    this.meta.replaceChildren();
    this.showTags([]);
  }

  async copyLink() {
    const url = this.link.value;
    try {
      await navigator.clipboard.writeText(url);
      this.copyStatus.textContent = 'Link copied';
    } catch {
      // No clipboard API (plain-HTTP origin other than localhost): select it for Ctrl+C instead.
      this.link.focus();
      this.link.select();
      this.copyStatus.textContent = document.execCommand?.('copy') ? 'Link copied' : 'Press Ctrl+C to copy';
    }
  }
}

/** [term, value] pairs for the metadata list; absent fields are left out. */
function metadataRows(record, cameraName) {
  const exif = record.meta?.exif ?? {};
  const rows = [
    ['Dimensions', record.width && record.height ? `${record.width} × ${record.height} px` : ''],
    ['Format', record.format ?? ''],
    ['Size', formatBytes(record.bytes)],
    ['File name', record.filename ?? ''],
    ['Added', formatDate(record.ingested_at)],
    ['Similarity', formatScore(record.score)],
    ['Camera', [exif.make, exif.model].filter(Boolean).join(' ')],
    ['Taken', exif.datetime_original ?? ''],
    ['Location', gpsLink(exif.gps)],
    ['Source', sourceWords(record, cameraName)],
    ['Captured', formatDate(record.captured_at)],
    ['Image id', h('code', { class: 'image-id', title: record.id, text: record.id })],
  ];
  return rows.filter(([, value]) => value);
}

function sourceWords({ source, camera_id: camera }, cameraName) {
  if (source === 'camera') return camera ? `Camera “${cameraName(camera)}”` : 'A camera';
  return { upload: 'Uploaded', url: 'Fetched from a URL' }[source] ?? '';
}

function gpsLink(gps) {
  const { latitude: lat, longitude: lon } = gps ?? {};
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return '';
  const text = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  const href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=15/${lat}/${lon}`;
  return h('a', { href, target: '_blank', rel: 'noopener noreferrer', text });
}
