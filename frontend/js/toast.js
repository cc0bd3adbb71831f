// Toasts: a short message that comes and goes (a link copied, copies deleted), read out by screen
// readers from a polite live region that is in the page from the start (a region added together
// with its text is not announced). A modal <dialog> makes the rest of the page inert, so while one
// is open its own region takes the message.

import { h } from './dom.js';

const SHOW_MS = 8000;

/** Show `message` for a few seconds; kind 'error' draws it as a failure. */
export function toast(message, { kind = 'ok' } = {}) {
  const region = document.querySelector('dialog[open] [data-toasts]') ?? document.querySelector('body > [data-toasts]');
  const item = h('p', { class: `toast ${kind}`, 'data-testid': 'toast', text: message });
  region.append(item);
  setTimeout(() => item.remove(), SHOW_MS);
}
