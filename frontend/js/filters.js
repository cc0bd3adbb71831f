// Search filters (format, minimum width, date added, camera) and the tag filter. They live in the
// URL next to the query
//   /?q=red+circle&format=PNG&format=JPEG&min_width=1024&added=7d&camera=<id>&tag=beach
// The panel's filters apply to text searches and picture searches (searchapi takes them on both);
// "similar" ignores them all, the library listing all but the camera, so the panel says so and
// disables its controls where none applies. The camera (cameras.js) and the tag (tags.js) narrow
// the library and both kinds of search.

import { normaliseCamera } from './cameras.js';
import { byTestId, h } from './dom.js';
import { normaliseTag } from './tags.js';

export const FORMATS = ['JPEG', 'PNG', 'WEBP', 'GIF', 'BMP', 'TIFF'];
export const MIN_WIDTHS = ['640', '1024', '1920'];
const DAY_MS = 24 * 60 * 60 * 1000;
export const ADDED = { '24h': DAY_MS, '7d': 7 * DAY_MS, '30d': 30 * DAY_MS };

/** What the panel's Clear sets; it leaves the tag filter, which has its own × (tags.js). */
export const PANEL_CLEARED = Object.freeze({ format: [], min_width: '', added: '', camera: '' });
export const NO_FILTERS = Object.freeze({ ...PANEL_CLEARED, tag: '' });

/** The filters in URL search params; unknown values are dropped (the controls cannot show them). */
export function readFilters(params) {
  const format = FORMATS.filter((f) => params.getAll('format').some((v) => v.toUpperCase() === f));
  const width = params.get('min_width') ?? '';
  const added = params.get('added') ?? '';
  return {
    format,
    min_width: MIN_WIDTHS.includes(width) ? width : '',
    added: Object.hasOwn(ADDED, added) ? added : '',
    camera: normaliseCamera(params.get('camera') ?? ''),
    tag: normaliseTag(params.get('tag') ?? ''),
  };
}

export function writeFilters(params, { format = [], min_width = '', added = '', camera = '', tag = '' } = NO_FILTERS) {
  for (const f of format) params.append('format', f);
  if (min_width) params.set('min_width', min_width);
  if (added) params.set('added', added);
  if (camera) params.set('camera', camera);
  if (tag) params.set('tag', tag);
}

/** How many filter groups are set (the toggle's badge). */
export const activeCount = (f = NO_FILTERS) => [f.format.length, f.min_width, f.added, f.camera].filter(Boolean).length;

/** A stable string for a source key: the same filters give the same key. */
export function filtersKey(f = NO_FILTERS) {
  const params = new URLSearchParams();
  writeFilters(params, f);
  return params.toString();
}

/** The empty state of a search: with filters set, it points at them. */
export function emptyState(f, title, hint) {
  if (!activeCount(f) && !f.tag) return { title: `${title}.`, hint };
  return { title: `${title} with these filters.`, hint: 'Clear or loosen the filters to see more.' };
}

/** The API's query parameters; `after` is reckoned when the page is fetched. */
export function apiFilters(f = NO_FILTERS) {
  return {
    format: f.format,
    min_width: f.min_width || undefined,
    after: f.added ? Date.now() - ADDED[f.added] : undefined,
    camera_id: f.camera || undefined,
    tag: f.tag || undefined,
  };
}

/** The toggle button and the collapsible panel in index.html. */
export class FilterPanel {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.toggle = byTestId('filters-toggle');
    this.count = byTestId('filters-count');
    this.panel = byTestId('filters-panel');
    this.fields = byTestId('filters-fields');
    this.note = byTestId('filters-note');
    this.formats = Array.from(this.panel.querySelectorAll('input[name="format"]'));
    this.width = byTestId('filter-min-width');
    this.added = byTestId('filter-added');
    this.cameraGroup = byTestId('filter-camera-group');
    this.camera = byTestId('filter-camera');
    this.toggle.addEventListener('click', () => this.setOpen(this.panel.hidden));
    this.panel.addEventListener('change', () => this.onChange(this.read()));
    this.panel.addEventListener('submit', (event) => event.preventDefault());
    this.panel.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      this.setOpen(false);
      this.toggle.focus();
    });
    byTestId('filters-clear').addEventListener('click', () => this.onChange({ ...PANEL_CLEARED }));
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.toggle.setAttribute('aria-expanded', String(open));
  }

  /** The panel's own filters (the caller keeps the tag filter). */
  read() {
    return {
      format: this.formats.filter((box) => box.checked).map((box) => box.value),
      min_width: this.width.value,
      added: this.added.value,
      camera: this.camera.value,
    };
  }

  /** The Camera select's choices, `[{camera_id, name, images}]`; hidden while there are none. */
  setCameras(cameras, nameOf) {
    const chosen = this.camera.value;
    const options = cameras.map(({ camera_id: id, images }) =>
      h('option', { value: id, text: `${nameOf(id)} (${images.toLocaleString()})` }));
    this.camera.replaceChildren(h('option', { value: '', text: 'Any camera' }), ...options);
    this.choose(chosen, nameOf);
  }

  /** Select camera `id`, adding a choice for one the list lacks (its images are gone). */
  choose(id, nameOf) {
    if (id && !Array.from(this.camera.options).some((option) => option.value === id)) {
      this.camera.append(h('option', { value: id, text: nameOf(id) }));
    }
    this.camera.value = id;
    this.cameraGroup.hidden = this.camera.options.length < 2;
  }

  /** Show the URL's filters; `applies` says whether the current search uses them. */
  show(filters, applies, nameOf) {
    for (const box of this.formats) box.checked = filters.format.includes(box.value);
    this.width.value = filters.min_width;
    this.added.value = filters.added;
    this.choose(filters.camera, nameOf);
    const n = activeCount(filters);
    this.count.textContent = n ? String(n) : '';
    this.count.hidden = !n;
    this.toggle.classList.toggle('active', n > 0);
    this.toggle.setAttribute('aria-label', n ? `Filters, ${n} active` : 'Filters');
    this.fields.disabled = applies === 'never';
    this.note.hidden = applies === 'yes';
    const later = this.cameraGroup.hidden
      ? 'Filters apply once you search by words or with a picture.'
      : 'Format, width and date apply once you search by words or with a picture; the camera applies here too.';
    this.note.textContent = applies === 'never' ? 'Filters do not apply to “similar images”.' : later;
  }
}
