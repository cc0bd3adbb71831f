// The library view, when the search box is empty: every image, newest first, counted, paged by the
// cursor its answers carry (pages stay put while new images arrive), narrowed by the tag and the
// camera filters.
//   /             the whole library         /?tag=beach   only images tagged “beach”
//   /?camera=<id> only frames from that camera (with tag=, frames with that tag)

import * as api from './api.js';
import { filtersKey } from './filters.js';

const UPLOAD_HINT = 'Upload some: drag pictures anywhere onto this page, or use the Upload button.';

/** The results source (results.js) of the library, with `tag` and `camera` ('' for none). */
export function librarySource({ tag, camera }, { canUpload, cameraName }) {
  // The camera's name may arrive after the first page (cameras.js): asked for each time.
  const narrowed = () => [camera && ` from “${cameraName(camera)}”`, tag && ` tagged “${tag}”`].filter(Boolean).join('');
  return {
    key: `library?${filtersKey({ tag, camera })}`,
    scored: false,
    filters: 'later', // the panel's other filters wait for a search
    fetchPage: (page) => api.listImages(page, { sort: 'newest', tag: tag || undefined, camera_id: camera || undefined }),
    summary: ({ loaded, total = loaded }) =>
      `${total.toLocaleString()} ${total === 1 ? 'image' : 'images'}${narrowed()}`,
    empty: camera || tag
      ? { title: `No images${narrowed()}.`, hint: 'Remove the filters to see the whole library.' }
      : { title: 'No images yet.', hint: canUpload ? UPLOAD_HINT : 'An editor can add some.' },
  };
}
