// The results sources (results.js) of the searches: by words, by a picture, images like one image
// (the library's is in library.js). A search by picture or by likeness shows what it started from
// in a bar above the results, with Clear to go back to the library. Each says how many of its hits
// match ("3 matches for …"; "No close matches for …" when only weaker hits came back).
//   /?q=red+circle     text search          /?similar=<id>   images like <id>

import * as api from './api.js';
import { h } from './dom.js';
import { apiFilters, emptyState, filtersKey } from './filters.js';
import { displayName } from './results.js';

/** The results' heading from a search answer's `matches`. */
function matchSummary(matches = 0, what) {
  if (!matches) return `No close matches ${what}`;
  return `${matches.toLocaleString()} ${matches === 1 ? 'match' : 'matches'} ${what}`;
}

export function textSource(q, filters, { canUpload }) {
  return {
    key: `q:${q}?${filtersKey(filters)}`,
    scored: true,
    filters: 'yes',
    fetchPage: (page) => api.searchText(q, page, apiFilters(filters)),
    summary: ({ matches }) => matchSummary(matches, `for “${q}”`),
    empty: emptyState(filters, `No images match “${q}”`,
      canUpload ? 'Try other words, or upload pictures with the Upload button.' : 'Try other words.'),
  };
}

/** `onOpen(button)` opens the image itself; `onClear()` leaves the search. */
export function similarSource(id, { onOpen, onClear }) {
  return {
    key: `similar:${id}`,
    scored: true,
    filters: 'never',
    fetchPage: (page) => api.similarTo(id, page),
    summary: ({ matches }) => matchSummary(matches, 'for this image'),
    empty: { title: 'No similar images yet.', hint: 'Upload more pictures to compare with.' },
    context: () => {
      const name = h('strong', { text: 'this image' });
      const open = h('button', { type: 'button', class: 'link-button', text: 'Open' });
      open.addEventListener('click', () => onOpen(open));
      const bar = contextBar(null, ['Images similar to ', name], onClear, open);
      api.getImage(id).then((record) => {
        name.textContent = displayName(record);
        bar.querySelector('img').src = record.thumb_url; // signed when reads are private
      }, () => {});
      return bar;
    },
  };
}

export function pictureSource(token, file, filters, { onClear }) {
  return {
    key: `picture:${token}?${filtersKey(filters)}`,
    scored: true,
    filters: 'yes',
    fetchPage: (page) => api.searchByFile(file, page, apiFilters(filters)),
    summary: ({ matches }) => matchSummary(matches, `for ${file.name}`),
    empty: emptyState(filters, `No images look like ${file.name}`, 'Upload more pictures to compare with.'),
    context: () => contextBar(file.preview, ['Images like ', h('strong', { text: file.name })], onClear),
  };
}

function contextBar(thumb, label, onClear, ...actions) {
  const clear = h('button', { type: 'button', class: 'link-button', 'data-testid': 'context-clear', text: 'Clear' });
  clear.addEventListener('click', onClear);
  const img = h('img', { src: thumb, alt: '', width: 40, height: 40, hidden: !thumb });
  img.addEventListener('load', () => (img.hidden = false));
  img.addEventListener('error', () => (img.hidden = true));
  return h('div', { class: 'context-bar' },
    img,
    h('span', { class: 'context-label' }, ...label),
    ...actions, clear);
}
