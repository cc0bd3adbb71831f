// The library view, when the search box is empty: every image, newest first, counted, paged by the
// cursor its answers carry (pages stay put while new images arrive), narrowed by the tag filter.
//   /             the whole library         /?tag=beach   only images tagged “beach”

import * as api from './api.js';
import { filtersKey } from './filters.js';

const UPLOAD_HINT = 'Upload some: drag pictures anywhere onto this page, or use the Upload button.';

/** The results source (results.js) of the library, with `tag` ('' for none). */
export function librarySource(tag, { canUpload }) {
  const tagged = tag ? ` tagged “${tag}”` : '';
  return {
    key: `library?${filtersKey({ tag })}`,
    scored: false,
    filters: 'later', // the panel's filters wait for a search
    fetchPage: (page) => api.listImages(page, { sort: 'newest', tag: tag || undefined }),
    summary: ({ loaded, total = loaded }) =>
      `${total.toLocaleString()} ${total === 1 ? 'image' : 'images'}${tagged}`,
    empty: tag
      ? { title: `No images${tagged}.`, hint: 'Remove the tag filter to see the whole library.' }
      : { title: 'No images yet.', hint: canUpload ? UPLOAD_HINT : 'An editor can add some.' },
  };
}
