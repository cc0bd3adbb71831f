// Small DOM and formatting helpers shared by the page's modules.

/** Element builder: h('a', {href: '/', class: 'x', dataset: {id: 1}}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/** The element with this data-testid (they double as the page's stable hooks). */
export const byTestId = (id, root = document) => root.querySelector(`[data-testid="${id}"]`);

export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export function formatDate(ms) {
  if (!Number.isFinite(ms)) return '';
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(ms);
}

export const formatScore = (score) => (Number.isFinite(score) ? score.toFixed(3) : '');

/** Calls fn once calls have paused for `ms`; `.cancel()` drops a pending call. */
export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** Calls fn `ms` after the first of a burst of calls (later calls in the burst join it). */
export function throttle(fn, ms) {
  let timer = 0;
  return () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = 0;
      fn();
    }, ms);
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Does this drag carry files (as opposed to text or a link)? */
export const dragHasFiles = (event) => Array.from(event.dataTransfer?.types ?? []).includes('Files');
