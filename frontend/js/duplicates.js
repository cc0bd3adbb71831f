// The duplicates view (/?view=duplicates): groups of near-duplicate pictures (copies whose
// perceptual hashes differ in a few bits), a page of groups at a time from
// GET /api/v1/image/duplicates ("Show more groups" follows the cursor). A group is a row of its
// copies, the largest (pixels, then bytes) first and marked "Best copy", each with its size,
// format, bytes and how far its hash is from the best copy's. Editors get "Delete extra copies"
// per group and "Delete" per copy (`editor-only`: session.js hides them from viewers). After a
// delete the group is asked for again (the near-duplicates of its largest surviving copy) and it
// leaves the view when one copy is left.

import * as api from './api.js';
import { byTestId, formatBytes, h } from './dom.js';
import { displayName } from './results.js';
import { toast } from './toast.js';

const GROUPS_PER_PAGE = 20;
const COPY = '[data-testid="duplicate-copy"]';
const GROUP = '[data-testid="duplicate-group"]';

const copies = (n) => `${n} ${n === 1 ? 'copy' : 'copies'}`;

export class DuplicatesView {
  /** onOpen(record, button) opens the viewer; onDeleted(id) tells the rest of the page. */
  constructor({ onOpen, onDeleted }) {
    this.section = byTestId('duplicates-view');
    this.title = this.section.querySelector('h1');
    this.status = byTestId('duplicates-status', this.section);
    this.list = byTestId('duplicate-groups', this.section);
    this.notice = byTestId('duplicates-notice', this.section);
    this.more = byTestId('duplicates-more', this.section);
    this.navLink = byTestId('nav-duplicates');
    this.onDeleted = onDeleted;
    this.records = new Map(); // id -> image on show, for the viewer
    this.generation = 0;
    this.more.addEventListener('click', () => this.load());
    this.list.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-action]');
      const group = button?.closest(GROUP);
      if (!group) return;
      const { action, id } = button.dataset;
      if (action === 'open') onOpen(this.records.get(id), button);
      else if (action === 'delete-one') this.deleteOne(group, id);
      else if (action === 'delete-extra') this.deleteExtra(group);
    });
  }

  get visible() {
    return !this.section.hidden;
  }

  /** On show: the first page, asked for afresh (copies may have come or gone meanwhile). */
  show() {
    if (this.visible) return;
    this.section.hidden = false;
    this.navLink.setAttribute('aria-current', 'page');
    this.reload();
  }

  hide() {
    this.section.hidden = true;
    this.navLink.removeAttribute('aria-current');
    this.generation += 1;
    this.controller?.abort();
  }

  reload() {
    this.generation += 1;
    this.controller?.abort();
    this.cursor = undefined;
    this.done = false;
    this.records.clear();
    this.list.replaceChildren();
    this.notice.hidden = true;
    this.more.hidden = true;
    this.status.textContent = 'Looking for duplicates…';
    return this.load();
  }

  async load() {
    const { generation, cursor } = this;
    this.controller = new AbortController();
    this.more.disabled = true;
    try {
      const page = await api.listDuplicates({ limit: GROUPS_PER_PAGE, cursor, signal: this.controller.signal });
      if (generation !== this.generation) return;
      this.maxDistance = page.max_distance;
      this.cursor = page.next_cursor ?? undefined;
      this.done = !page.next_cursor;
      this.list.append(...page.groups.map((group) => this.group(group.images)));
      this.summarise();
    } catch (err) {
      if (err.name === 'AbortError' || generation !== this.generation) return;
      this.status.textContent = '';
      const retry = h('button', { type: 'button', class: 'button', 'data-testid': 'duplicates-retry', text: 'Try again' });
      retry.addEventListener('click', () => this.reload());
      this.showNotice([h('p', { class: 'notice-title', text: `Could not list duplicates: ${err.message}` }), retry], 'error');
    } finally {
      this.more.disabled = false;
    }
  }

  summarise() {
    const groups = this.list.children.length;
    this.more.hidden = this.done;
    if (!groups && this.done) {
      this.status.textContent = '';
      this.showNotice([
        h('p', { class: 'notice-title', text: 'No duplicates in the library.' }),
        h('p', { text: 'Re-encoded, resized, cropped or turned copies of a picture show up here when they are added.' }),
      ], 'empty');
      return;
    }
    this.notice.hidden = true;
    const count = `${groups}${this.done ? '' : '+'} ${groups === 1 ? 'group' : 'groups'}`;
    this.status.textContent = `${count} of near-duplicates (at most ${this.maxDistance} of 64 hash bits apart)`;
  }

  showNotice(children, kind) {
    this.notice.replaceChildren(...children);
    this.notice.dataset.kind = kind;
    this.notice.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.notice.hidden = false;
  }

  /** A group's row: `images` largest first, each with its `distance` to the first. */
  group(images) {
    const [best] = images;
    const extra = images.length - 1;
    for (const image of images) this.records.set(image.id, image);
    const titleId = `duplicates-of-${best.id}`;
    return h('li', { class: 'dup-group', 'data-testid': 'duplicate-group', 'aria-labelledby': titleId },
      h('div', { class: 'dup-header' },
        h('h2', { id: titleId, tabindex: '-1', text: `${copies(images.length)} of “${displayName(best)}”` }),
        h('button', {
          type: 'button',
          class: 'button danger editor-only',
          'data-testid': 'delete-extra-copies',
          dataset: { action: 'delete-extra' },
          text: `Delete ${extra} extra ${extra === 1 ? 'copy' : 'copies'}`,
        })),
      h('ul', { class: 'dup-copies' }, ...images.map((image, i) => copyCard(image, i === 0))));
  }

  async deleteExtra(group) {
    const [best, ...extra] = this.members(group);
    const question = `Delete ${extra.length} extra ${extra.length === 1 ? 'copy' : 'copies'} of “${displayName(best)}”?`;
    if (!extra.length || !window.confirm(`${question} The best copy stays. This cannot be undone.`)) return;
    await this.deleteCopies(group, extra.map((image) => image.id));
  }

  async deleteOne(group, id) {
    const name = displayName(this.records.get(id));
    if (!window.confirm(`Delete “${name}” from the library? This cannot be undone.`)) return;
    await this.deleteCopies(group, [id]);
  }

  /** Delete these copies one after the other (up to the first refusal), then refresh the group. */
  async deleteCopies(group, ids) {
    group.setAttribute('aria-busy', 'true');
    for (const button of group.querySelectorAll('button')) button.disabled = true;
    const deleted = [];
    try {
      for (const id of ids) {
        await api.deleteImage(id).catch((err) => {
          if (err.status !== 404) throw err; // a 404: someone deleted it first, as good
        });
        deleted.push(id);
        this.onDeleted(id);
      }
      toast(`Deleted ${copies(deleted.length)}.`);
    } catch (err) {
      const done = deleted.length ? ` (${copies(deleted.length)} deleted)` : '';
      toast(`Could not delete: ${err.message}${done}`, { kind: 'error' });
    }
    await this.refresh(group, deleted);
  }

  /** An image deleted elsewhere (in the viewer): its group is asked for again. */
  forget(id) {
    const copy = this.list.querySelector(`${COPY}[data-id="${CSS.escape(id)}"]`);
    if (copy) this.refresh(copy.closest(GROUP), [id]);
  }

  members(group) {
    return [...group.querySelectorAll(COPY)].map((copy) => this.records.get(copy.dataset.id));
  }

  /** The group again without `gone`: its largest surviving copy and that copy's near-duplicates. */
  async refresh(group, gone) {
    for (const id of gone) this.records.delete(id);
    let images = this.members(group).filter((image) => image && !gone.includes(image.id));
    const [anchor] = images;
    if (anchor) {
      try {
        const { duplicates } = await api.duplicatesOf(anchor.id, { maxDistance: this.maxDistance });
        images = [{ ...anchor, distance: 0 }, ...duplicates];
      } catch (err) {
        toast(`Could not refresh the group: ${err.message}`, { kind: 'error' }); // show what is known
      }
    }
    if (!group.isConnected) return; // the view was reloaded meanwhile
    if (images.length > 1) {
      const fresh = this.group(images);
      group.replaceWith(fresh);
      fresh.querySelector('h2').focus();
    } else {
      const next = group.nextElementSibling ?? group.previousElementSibling;
      group.remove();
      (next?.querySelector('h2') ?? this.title).focus();
    }
    this.summarise();
  }
}

/** One copy: its thumbnail (opens the viewer), what it is, and an editor's Delete. */
function copyCard(image, best) {
  const name = displayName(image);
  const img = h('img', { src: image.thumb_url, alt: '', loading: 'lazy', decoding: 'async' });
  img.addEventListener('error', () => img.parentElement.classList.add('broken'), { once: true });
  const distance = image.distance === 0 ? 'Looks the same' : `${image.distance} bits from the best copy`;
  return h('li', { class: best ? 'dup-copy best' : 'dup-copy', 'data-testid': 'duplicate-copy', dataset: { id: image.id } },
    h('button', { type: 'button', class: 'tile', title: name, 'aria-label': `Open ${name}`, dataset: { action: 'open', id: image.id } }, img),
    best && h('span', { class: 'badge', 'data-testid': 'best-copy', text: 'Best copy' }),
    h('p', { class: 'dup-name', text: name }),
    h('p', { class: 'dup-facts' }, `${image.width} × ${image.height} px · ${image.format} · ${formatBytes(image.bytes)}`),
    !best && h('p', { class: 'dup-distance', text: distance }),
    h('button', {
      type: 'button',
      class: 'button danger small editor-only',
      'data-testid': 'delete-copy',
      'aria-label': `Delete ${name}`,
      dataset: { action: 'delete-one', id: image.id },
      text: 'Delete',
    }));
}
