// The results grid: one "source" at a time (text search, similar images, search by picture, the
// library), paged as the sentinel below the grid scrolls into view: searches by offset/limit, the
// library by the cursor its answers carry. Each card shows its tags as chips that filter by them.
// A search answer says how many of its hits are matches (`matches`, and `match` per hit): the
// matches come first, then weaker hits under a "Less close" separator, quieter.

import { byTestId, formatScore, h } from './dom.js';
import { cardChips, onTagClick } from './tags.js';

export const PAGE_SIZE = 24;
const THUMB_SIDE = 256;
const SKELETONS = 12;

/** The thumbnail's size (longest side 256, never upscaled), so tiles reserve their space. */
function thumbSize({ width, height }) {
  if (!width || !height) return [THUMB_SIDE, THUMB_SIDE];
  const scale = Math.min(1, THUMB_SIDE / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

export const displayName = (record) => record.filename || `${record.id.slice(0, 12)}…`;

/**
 * A source is {key, scored, fetchPage({limit, offset, cursor, signal}), summary({loaded, total,
 * matches}), empty, context?: () => Node}. The view asks it for pages and renders the states
 * in between. A page with a `next_cursor` field is paged by cursor (null: the last page), others by
 * offset. `matches` is the search answer's count (undefined for the library).
 */
export class ResultsView {
  constructor({ onOpen, onModel, onTag }) {
    this.onOpen = onOpen;
    this.onModel = onModel;
    this.grid = byTestId('results-grid');
    this.status = byTestId('results-status');
    this.notice = byTestId('results-notice');
    this.context = byTestId('results-context');
    this.sentinel = byTestId('results-sentinel');
    this.records = new Map();
    this.source = null;
    this.generation = 0;
    this.observer = new IntersectionObserver(
      (entries) => entries.some((e) => e.isIntersecting) && this.loadMore(),
      { rootMargin: '0px 0px 800px 0px' },
    );
    this.grid.addEventListener('click', (event) => {
      const tile = event.target.closest('[data-testid="result-tile"]');
      if (tile) this.onOpen(this.records.get(tile.dataset.id), tile);
    });
    onTagClick(this.grid, onTag);
  }

  get key() {
    return this.source?.key;
  }

  /** Start over with a new source (or the same one, e.g. to retry). */
  show(source) {
    this.source = source;
    this.context.replaceChildren(...(source.context ? [source.context()] : []));
    this.context.hidden = !source.context;
    this.reset();
    this.grid.replaceChildren(...Array.from({ length: SKELETONS }, () => skeleton()));
    this.grid.setAttribute('aria-busy', 'true');
    this.status.textContent = 'Searching…';
    return this.loadMore();
  }

  /** Reload the first page in place (new images became searchable); keeps the old tiles meanwhile. */
  refresh() {
    if (!this.source) return Promise.resolve();
    this.reset();
    return this.loadMore();
  }

  reset() {
    this.controller?.abort();
    this.generation += 1;
    this.offset = 0;
    this.cursor = undefined;
    this.total = undefined;
    this.matches = undefined;
    this.done = false;
    this.loading = false;
    this.notice.hidden = true;
    this.observer.unobserve(this.sentinel);
  }

  async loadMore() {
    if (!this.source || this.loading || this.done) return;
    const { source, generation, offset, cursor } = this;
    this.loading = true;
    this.controller = new AbortController();
    if (offset > 0) this.showNotice([h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Loading more…']);
    try {
      const page = await source.fetchPage({ limit: PAGE_SIZE, offset, cursor, signal: this.controller.signal });
      if (generation !== this.generation) return;
      if (page.model) this.onModel(page.model);
      this.append(page, offset === 0);
    } catch (err) {
      if (err.name === 'AbortError' || generation !== this.generation) return;
      this.fail(err, offset === 0);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
    if (generation === this.generation && !this.done) {
      // Re-observing reports the sentinel at once if it is still near the viewport.
      this.observer.unobserve(this.sentinel);
      this.observer.observe(this.sentinel);
    }
  }

  append(page, first) {
    const results = page.results ?? [];
    if (first) {
      this.records.clear();
      this.grid.replaceChildren();
    }
    const fresh = results.filter((r) => !this.records.has(r.id));
    for (const record of fresh) {
      this.records.set(record.id, record);
      if (record.match === false && !byTestId('results-divider', this.grid)) this.grid.append(divider());
      this.grid.append(this.tile(record));
    }
    this.grid.removeAttribute('aria-busy');
    this.offset += results.length;
    this.cursor = page.next_cursor ?? undefined;
    this.total = page.total ?? this.total;
    this.matches = page.matches ?? this.matches;
    this.done = Object.hasOwn(page, 'next_cursor') ? !page.next_cursor : results.length < PAGE_SIZE;
    this.notice.hidden = true;
    this.summarise();
  }

  summarise() {
    const loaded = this.records.size;
    const { total, matches } = this;
    this.status.textContent = loaded ? this.source.summary({ loaded, total, matches }) : '';
    if (!loaded) this.showEmpty();
  }

  tile(record) {
    const [width, height] = thumbSize(record);
    const name = displayName(record);
    const score = this.source.scored ? formatScore(record.score) : '';
    const weak = record.match === false;
    const label = `${score ? `${name}, similarity ${score}` : name}${weak ? ', less close' : ''}`;
    const dataset = { id: record.id, filename: record.filename ?? '', score };
    if (typeof record.match === 'boolean') dataset.match = String(record.match);
    const img = h('img', { src: record.thumb_url, alt: name, width, height, loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.closest('.tile')?.classList.add('broken'), { once: true });
    return h(
      'li',
      { class: weak ? 'cell weak' : 'cell', dataset: { id: record.id } },
      h(
        'button',
        {
          type: 'button',
          class: 'tile',
          title: score ? `${name} — similarity ${score}` : name,
          'aria-label': label,
          'data-testid': 'result-tile',
          dataset,
        },
        img,
        score && h('span', { class: 'score', 'aria-hidden': 'true', text: score }),
        h('span', { class: 'caption', 'aria-hidden': 'true', text: name }),
      ),
      cardChips(record.tags),
    );
  }

  /** A deleted image leaves the grid (and the counts); the next page starts one place earlier. */
  remove(id) {
    const record = this.records.get(id);
    if (!record) return;
    this.records.delete(id);
    this.cell(id)?.remove();
    this.offset = Math.max(0, this.offset - 1);
    if (this.total !== undefined) this.total -= 1;
    if (record.match && this.matches) this.matches -= 1;
    this.summarise();
  }

  /** New tags for an image on show: its card's chips follow. */
  retag(id, tags) {
    const record = this.records.get(id);
    const cell = this.cell(id);
    if (!record || !cell) return;
    record.tags = tags;
    cell.querySelector('.tag-chips')?.remove();
    const chips = cardChips(tags);
    if (chips) cell.append(chips);
  }

  cell(id) {
    return this.grid.querySelector(`li.cell[data-id="${CSS.escape(id)}"]`);
  }

  showEmpty() {
    this.grid.replaceChildren();
    this.status.textContent = '';
    const { title, hint } = this.source.empty;
    this.showNotice([h('p', { class: 'notice-title', text: title }), hint && h('p', { text: hint })], 'empty');
  }

  fail(err, first) {
    if (!first && err.status === 400) {
      // The service caps how deep a search pages (offset); that is the end of the list, not an error.
      this.done = true;
      this.showNotice([h('p', { text: `That is as far as this search goes: ${err.message}.` })]);
      return;
    }
    if (first) this.grid.replaceChildren();
    this.grid.removeAttribute('aria-busy');
    this.status.textContent = '';
    this.done = true;
    const retry = h('button', { type: 'button', class: 'button', 'data-testid': 'results-retry', text: 'Try again' });
    retry.addEventListener('click', () => (first ? this.show(this.source) : this.retryPage()));
    const what = first ? 'Search failed' : 'Loading more results failed';
    this.showNotice([h('p', { class: 'notice-title', text: `${what}: ${err.message}` }), retry], 'error');
  }

  retryPage() {
    this.done = false;
    this.loadMore();
  }

  showNotice(children, kind = '') {
    this.notice.replaceChildren(...children);
    this.notice.dataset.kind = kind;
    this.notice.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    this.notice.hidden = false;
  }
}

/** Where the matches end and the weaker hits begin. */
function divider() {
  return h('li', { class: 'divider', role: 'separator', 'aria-label': 'Less close', 'data-testid': 'results-divider' },
    h('span', { text: 'Less close' }));
}

function skeleton() {
  return h('li', { class: 'cell skeleton', 'aria-hidden': 'true', 'data-testid': 'result-skeleton' });
}
