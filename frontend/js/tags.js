// Tags: chips that filter by their tag (on the cards and in the viewer), and the active tag filter
// above the results with its × to clear it. The tag lives in the URL with the other filters and
// narrows the library and searches alike:
//   /?tag=beach                   the library, only images tagged “beach”
//   /?q=a+red+circle&tag=beach    a text search among those images

import { byTestId, h } from './dom.js';

const CARD_CHIPS = 3; // more would not fit a card's row; the viewer shows them all
// What the API accepts (it refuses the request otherwise): letters, digits, spaces and . : / + - _
const VALID = /^[\p{L}\p{N} .:/+\-_]{1,64}$/u;

/** A tag as the API keeps it (trimmed, lower case), or '' when the API would refuse it. */
export function normaliseTag(value) {
  const tag = value.trim().toLowerCase();
  return VALID.test(tag) ? tag : '';
}

function tagChip(tag) {
  return h('button', {
    type: 'button',
    class: 'tag-chip',
    title: `Show images tagged “${tag}”`,
    'aria-label': `Show images tagged ${tag}`,
    'data-testid': 'tag-chip',
    dataset: { tag },
    text: tag,
  });
}

/** An editor's × beside a chip (the viewer removes the tag when it is clicked). */
function removeButton(tag) {
  return h('button', {
    type: 'button',
    class: 'tag-remove editor-only',
    title: `Remove the tag “${tag}”`,
    'aria-label': `Remove the tag ${tag}`,
    'data-testid': 'tag-remove',
    dataset: { tag },
    text: '×',
  });
}

/**
 * A list of tag chips (`max` of them, then “+N”); null when there are no tags. `removable` adds
 * each chip's × for editors.
 */
export function tagChips(tags = [], max = Infinity, { removable = false } = {}) {
  if (!tags.length) return null;
  const shown = tags.slice(0, max);
  const rest = tags.length - shown.length;
  const item = (tag) => h('li', { class: removable && 'tag-edit' }, tagChip(tag), removable && removeButton(tag));
  return h(
    'ul',
    { class: 'tag-chips', 'aria-label': 'Tags' },
    ...shown.map(item),
    rest > 0 && h('li', { class: 'tag-more', title: tags.slice(max).join(', '), text: `+${rest}` }),
  );
}

export const cardChips = (tags) => tagChips(tags, CARD_CHIPS);

/** Call `onTag(tag)` when a chip inside `root` is clicked (chips come and go with the content). */
export function onTagClick(root, onTag) {
  root.addEventListener('click', (event) => {
    const chip = event.target.closest('[data-testid="tag-chip"]');
    if (chip && root.contains(chip)) onTag(chip.dataset.tag);
  });
}

/** The active tag filter above the results: the tag, and × to clear it. */
export class TagFilter {
  constructor({ onClear }) {
    this.row = byTestId('tag-filter');
    this.name = byTestId('tag-filter-name', this.row);
    this.clear = byTestId('tag-filter-clear', this.row);
    this.clear.addEventListener('click', () => {
      byTestId('results-grid').closest('main').focus(); // the button is about to be hidden
      onClear();
    });
  }

  show(tag) {
    this.name.textContent = tag;
    this.clear.setAttribute('aria-label', `Remove the tag filter ${tag}`);
    this.row.hidden = !tag;
  }
}
