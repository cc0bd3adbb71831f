// Entry point: wires the search box, the URL (the page's state lives in it), results, viewer, uploads
// and the session (who is signed in decides what shows: session.js).
//   /?q=red+circle     text search          /?similar=<id>   images like <id>
//   /?image=<id>       viewer open (combines with the others)    /   the library, newest first
//   &format=PNG&min_width=1024&added=7d   filters for text and picture searches (filters.js)
//   &tag=beach         only images with that tag, in the library and searches (tags.js)
//   &camera=<id>       only frames from that camera, in the library and searches (cameras.js)
//   /?view=duplicates  groups of near-duplicate pictures, to keep the best copy (duplicates.js)

import { wireAddImages } from './add-images.js';
import { Cameras } from './cameras.js';
import { byTestId, debounce, throttle } from './dom.js';
import { acceptDrops } from './drop.js';
import { DuplicatesView } from './duplicates.js';
import { FilterPanel, readFilters, writeFilters } from './filters.js';
import { librarySource } from './library.js';
import { ResultsView } from './results.js';
import { Session } from './session.js';
import { pictureSource, similarSource, textSource } from './sources.js';
import { TagFilter } from './tags.js';
import { Uploads } from './uploads.js';
import { Viewer } from './viewer.js';

const SEARCH_DELAY_MS = 300;
const form = byTestId('search-form');
const input = byTestId('search-input');
const pictureInput = byTestId('search-image-input');
const banner = byTestId('demo-banner');
const modelInfo = byTestId('model-info');
const pictures = new Map(); // history token -> File: a picture query cannot live in the URL
let pushNext = true; // the next typed query starts a new history entry (then replaces it while typing)

const results = new ResultsView({
  onOpen: (record, tile) => openImage(record.id, record, tile),
  onModel: showModel,
  onTag: filterByTag,
});
const viewer = new Viewer({
  cameraName,
  onSimilar: findSimilar,
  onClose: viewerClosed,
  onTag: filterByTag,
  onTagsChanged: (id, tags) => results.retag(id, tags),
  onDeleted: (id) => {
    results.remove(id);
    duplicates.forget(id);
  },
});
const duplicates = new DuplicatesView({
  onOpen: (record, button) => openImage(record.id, record, button),
  onDeleted: (id) => results.remove(id),
});
// Newly indexed images: show them soon, and once more when the burst has settled (search reads
// are only boundedly consistent, so the last few may need a moment to become visible).
const refreshSoon = throttle(() => results.refresh(), 700);
const refreshSettled = debounce(() => results.refresh(), 2500);
const onIndexed = () => {
  refreshSoon();
  refreshSettled();
};
const uploads = new Uploads({ onIndexed, onOpen: (id) => openImage(id) });
const session = new Session({ onChange: sessionChanged });
const linkDialog = wireAddImages({ uploads, canAdd: () => session.canEdit });
const filterPanel = new FilterPanel({ onChange: (panel) => changeFilters({ ...readLocation().filters, ...panel }) });
const tagFilter = new TagFilter({ onClear: () => changeFilters({ ...readLocation().filters, tag: '' }) });
const cameras = new Cameras({
  onChange: (list) => {
    filterPanel.setCameras(list, cameraName);
    if (results.records.size) results.summarise(); // it may name the camera now
  },
});

function cameraName(id) {
  return cameras.name(id);
}

function readLocation() {
  const params = new URLSearchParams(window.location.search);
  return {
    view: params.get('view') === 'duplicates' ? 'duplicates' : '',
    q: (params.get('q') ?? '').trim(),
    similar: params.get('similar') ?? '',
    image: params.get('image') ?? '',
    filters: readFilters(params),
    picture: window.history.state?.picture ?? null,
  };
}

function urlFor({ view = '', q = '', similar = '', image = '', filters }) {
  const params = new URLSearchParams();
  if (view) params.set('view', view);
  else if (similar) params.set('similar', similar);
  else if (q) params.set('q', q);
  if (!view && !similar) writeFilters(params, filters);
  if (image) params.set('image', image);
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

function navigate(target, { replace = false, state = null } = {}) {
  window.history[replace ? 'replaceState' : 'pushState'](state, '', urlFor(target));
  render();
}

/** Make the page match the URL (on load, after navigate(), and on Back/Forward). */
function render() {
  if (!session.mayRead) return; // the sign-in form is on show; it renders once signed in
  if (!cameras.asked) cameras.load();
  const where = readLocation();
  document.body.dataset.view = where.view || 'results'; // the filters go with the results (CSS)
  if (where.view) {
    duplicates.show();
    tagFilter.show('');
  } else {
    duplicates.hide();
    const source = sourceFor(where);
    if (source.key !== results.key) results.show(source);
    filterPanel.show(where.filters, source.filters, cameraName);
    tagFilter.show(source.filters === 'never' ? '' : where.filters.tag);
  }
  if (document.activeElement !== input || input.value.trim() !== where.q) input.value = where.q;
  const heading = where.view ? 'Duplicates' : where.q;
  document.title = heading ? `${heading} — Image search` : 'Image search';
  const record = results.records.get(where.image) ?? duplicates.records.get(where.image);
  if (where.image && viewer.openId !== where.image) viewer.open(where.image, record);
  if (!where.image && viewer.openId) viewer.close();
}

function sourceFor({ q, similar, picture, filters }) {
  const onClear = () => navigate({ filters: readLocation().filters });
  if (similar) return similarSource(similar, { onOpen: (opener) => openImage(similar, null, opener), onClear });
  if (q) return textSource(q, filters, { canUpload: session.canEdit });
  if (picture && pictures.has(picture)) return pictureSource(picture, pictures.get(picture), filters, { onClear });
  return librarySource(filters, { canUpload: session.canEdit, cameraName });
}

/** Signed in or out, or the session ended (session.js shows the form when one is needed). */
function sessionChanged(current, why) {
  if (current.form.isOpen) {
    viewer.close(); // nothing modal may stay over the form
    linkDialog.close();
    return;
  }
  if (why === 'signed-in') {
    uploads.resume();
    cameras.load();
    // What was refused runs again.
    if (duplicates.visible) duplicates.reload();
    else if (results.source) results.show(sourceFor(readLocation()));
    input.focus();
  }
  render();
}

function showModel(model) {
  banner.hidden = !model?.demo;
  modelInfo.textContent = model ? `Model: ${model.name}${model.weights ? ` (${model.weights})` : ''}` : '';
}

function openImage(id, record = null, opener = null) {
  const where = readLocation();
  viewer.open(id, record, opener);
  if (where.image === id) return;
  window.history.pushState({ ...window.history.state, viewer: true }, '', urlFor({ ...where, image: id }));
}

function viewerClosed() {
  const where = readLocation();
  if (!where.image) return; // closed by navigation: the URL already says so
  if (window.history.state?.viewer) window.history.back();
  else window.history.replaceState(null, '', urlFor({ ...where, image: '' }));
}

function changeFilters(filters) {
  navigate({ ...readLocation(), filters }, { state: window.history.state });
}

/**
 * A tag chip (on a card or in the viewer) filters the search on show, or the library, by its tag
 * ("similar images" take no filters: it leaves them for the library).
 */
function filterByTag(tag) {
  const where = readLocation();
  const fromViewer = Boolean(window.history.state?.viewer); // Back then returns to where it was opened
  const state = where.similar || !where.picture ? null : { picture: where.picture };
  if (where.image) {
    window.history.replaceState(state, '', urlFor({ ...where, image: '' }));
    viewer.close();
  }
  const target = { ...where, view: '', similar: '', image: '', filters: { ...where.filters, tag } };
  const same = urlFor(target) === urlFor({ ...where, image: '' });
  navigate(target, { replace: fromViewer || same, state });
  window.scrollTo({ top: 0 });
}

function findSimilar(id) {
  const replace = Boolean(window.history.state?.viewer); // Back then returns to the search it came from
  window.history.replaceState(null, '', urlFor({ ...readLocation(), image: '' }));
  viewer.close();
  navigate({ similar: id }, { replace });
  window.scrollTo({ top: 0 });
}

function searchByPicture(file) {
  if (!file) return;
  const token = `${Date.now()}`;
  file.preview ??= URL.createObjectURL(file);
  pictures.set(token, file);
  input.value = '';
  navigate({ filters: readLocation().filters }, { state: { picture: token } });
}

/** Typing searches after a pause, Enter at once; one history entry per query typed. */
function commit({ enter = false } = {}) {
  search.cancel();
  const q = input.value.trim();
  const where = readLocation();
  const unchanged = q === where.q && !where.similar && !where.view && !(q === '' && where.picture);
  if (!unchanged) navigate({ q, filters: where.filters }, { replace: !pushNext });
  else if (enter && results.notice.dataset.kind === 'error') results.show(results.source);
  pushNext = enter;
}
const search = debounce(() => commit(), SEARCH_DELAY_MS);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  commit({ enter: true });
});
input.addEventListener('input', search);
input.addEventListener('blur', () => (pushNext = true));
input.addEventListener('paste', (event) => {
  const file = Array.from(event.clipboardData?.files ?? []).find((f) => f.type.startsWith('image/'));
  if (file) {
    event.preventDefault();
    searchByPicture(file);
  }
});
byTestId('search-by-image-button').addEventListener('click', () => pictureInput.click());
pictureInput.addEventListener('change', () => {
  searchByPicture(pictureInput.files[0]);
  pictureInput.value = '';
});

// Drag and drop: on the search box it searches by that picture; anywhere else it uploads (editors).
acceptDrops({
  searchBox: form,
  onPicture: searchByPicture,
  onFiles: (files) => uploads.add(files),
  canUpload: () => session.canEdit,
});

// Same-page links (brand, demo suggestions, uploaded files) navigate without reloading.
document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href]');
  if (!link || event.defaultPrevented || link.target || link.origin !== window.location.origin) return;
  if (link.pathname !== '/' || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  window.history.pushState(null, '', link.href);
  pushNext = true;
  render();
});
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.target.closest('input, textarea, select, dialog[open]')) return;
  event.preventDefault();
  input.focus();
});
window.addEventListener('popstate', () => {
  pushNext = true;
  render();
});

session.load();
