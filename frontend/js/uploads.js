// Uploads: files go up in small batches (one multipart request each, progress per file), links one
// at a time (the server fetches them); then each accepted job is polled with backoff until it is
// done, a duplicate, quarantined (a compliance check held it for an admin), or failed. Polling
// pauses when the session ends and resumes after sign-in.

import { ApiError, describeStatus, getJob, ingestUrl, uploadFiles } from './api.js';
import { byTestId, formatBytes, h, sleep } from './dom.js';

const BATCH_FILES = 8;
const BATCH_BYTES = 150 * 1024 * 1024; // keeps a request under the front door's 200m body cap
const PARALLEL_BATCHES = 2;
const POLL_PARALLEL = 4;
const POLL_FIRST_MS = 400;
const POLL_MAX_MS = 5000;
const FINAL = new Set(['done', 'duplicate', 'quarantined', 'failed']);
const LABELS = {
  waiting: 'Waiting', uploading: 'Uploading', fetching: 'Fetching', queued: 'Queued', processing: 'Processing',
  done: 'Done', duplicate: 'Already in the library', quarantined: 'Held for review', failed: 'Failed',
};

export class Uploads {
  constructor({ onIndexed, onOpen }) {
    this.onIndexed = onIndexed;
    this.onOpen = onOpen;
    this.panel = byTestId('upload-panel');
    this.list = byTestId('upload-list');
    this.summary = byTestId('upload-summary');
    this.toggle = byTestId('upload-toggle');
    this.items = [];
    this.queue = [];
    this.inFlight = 0;
    this.polling = new Set();
    this.looping = false;
    this.paused = false; // the session ended: polls wait for resume()
    this.toggle.addEventListener('click', () => this.setCollapsed(!this.panel.classList.contains('collapsed')));
    byTestId('upload-clear').addEventListener('click', () => this.clearFinished());
    window.addEventListener('beforeunload', (event) => this.busy && event.preventDefault());
  }

  get busy() {
    return this.items.some((item) => !FINAL.has(item.state));
  }

  add(files) {
    const fresh = Array.from(files).map((file) => this.createItem(file));
    if (!fresh.length) return;
    this.items.push(...fresh);
    this.queue.push(...fresh);
    this.show();
    this.pump();
    this.updateSummary();
  }

  /** One image the server fetches from `url`; its row follows the job as a file's does. */
  async addUrl(url) {
    const item = this.createItem({ name: url, size: NaN });
    item.progress.removeAttribute('value'); // indeterminate: the server does the fetching
    this.items.push(item);
    this.show();
    this.setState(item, 'fetching');
    try {
      const body = await ingestUrl(url);
      this.accept(item, body?.jobs?.[0]);
    } catch (err) {
      this.setState(item, 'failed', { reason: err.message });
    }
  }

  show() {
    this.panel.hidden = false;
    this.setCollapsed(false);
  }

  createItem(file) {
    const progress = h('progress', { max: 1, value: 0, 'aria-label': `Upload progress of ${file.name}` });
    const state = h('span', { class: 'upload-state', 'data-testid': 'upload-state' });
    const reason = h('span', { class: 'upload-reason', 'data-testid': 'upload-reason', hidden: true });
    const name = h('span', { class: 'upload-name', title: file.name, text: file.name });
    const row = h(
      'li',
      { class: 'upload-row', 'data-testid': 'upload-row', dataset: { filename: file.name } },
      h('span', { class: 'upload-main' }, name, h('span', { class: 'upload-size', text: formatBytes(file.size) })),
      progress,
      h('span', { class: 'upload-status' }, state, reason),
    );
    this.list.append(row);
    const item = { file, row, name, progress, stateEl: state, reason, state: 'waiting', jobId: null };
    this.setState(item, 'waiting');
    return item;
  }

  setState(item, state, { reason, imageId } = {}) {
    item.state = state;
    item.row.dataset.state = state;
    item.stateEl.textContent = LABELS[state] ?? state;
    if (reason) {
      item.reason.textContent = reason;
      item.reason.hidden = false;
      item.row.title = `${item.file.name}: ${reason}`;
    }
    if (state === 'uploading' || state === 'waiting' || state === 'fetching') return this.updateSummary();
    item.progress.value = 1;
    if (imageId && (state === 'done' || state === 'duplicate')) {
      const open = h('a', { href: `/?image=${imageId}`, class: 'upload-name', title: `Open ${item.file.name}` });
      open.textContent = item.file.name;
      open.addEventListener('click', (event) => {
        event.preventDefault();
        this.onOpen(imageId);
      });
      item.name.replaceWith(open);
      item.name = open;
    }
    this.updateSummary();
  }

  pump() {
    while (this.inFlight < PARALLEL_BATCHES && this.queue.length) {
      const batch = takeBatch(this.queue);
      this.inFlight += 1;
      this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  async send(batch) {
    for (const item of batch) this.setState(item, 'uploading');
    const sizes = batch.map((item) => item.file.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const onProgress = (loaded, requestTotal) => {
      let before = 0; // the body also holds multipart headers: share progress out by file size
      const sent = (loaded / requestTotal) * total;
      batch.forEach((item, i) => {
        item.progress.value = sizes[i] ? Math.min(1, Math.max(0, (sent - before) / sizes[i])) : 1;
        item.stateEl.textContent = `Uploading ${Math.round(item.progress.value * 100)}%`;
        before += sizes[i];
      });
    };
    let answer;
    try {
      answer = await uploadFiles(batch.map((item) => item.file), onProgress);
    } catch (err) {
      for (const item of batch) this.setState(item, 'failed', { reason: err.message });
      return;
    }
    const { status, body } = answer;
    if (status === 202 && Array.isArray(body?.jobs)) {
      batch.forEach((item, i) => this.accept(item, matchByName(body.jobs, i, item)));
      return;
    }
    // Nothing accepted: the answer is one problem, with each file's own problem in `errors`.
    const errors = Array.isArray(body?.errors) ? body.errors : [];
    batch.forEach((item, i) => {
      const problem = matchByName(errors, i, item) ?? body ?? {};
      this.setState(item, 'failed', { reason: problem.detail || problem.title || describeStatus(status) });
    });
  }

  accept(item, job) {
    if (!job) return this.setState(item, 'failed', { reason: 'the server did not report on this file' });
    if (job.state === 'rejected') {
      const reason = job.problem?.detail || job.problem?.title || 'rejected by the server';
      return this.setState(item, 'failed', { reason });
    }
    item.jobId = job.job_id;
    this.setState(item, job.state, { imageId: job.image_id });
    if (!FINAL.has(job.state)) this.poll(item);
  }

  poll(item) {
    this.polling.add(item);
    if (!this.looping && !this.paused) this.pollLoop();
  }

  /** Signed in again: follow the jobs that were left waiting. */
  resume() {
    this.paused = false;
    if (!this.looping && this.polling.size) this.pollLoop();
  }

  async pollLoop() {
    this.looping = true;
    let delay = POLL_FIRST_MS;
    while (this.polling.size && !this.paused) {
      await sleep(delay);
      const pending = [...this.polling];
      let changed = false;
      for (let i = 0; i < pending.length; i += POLL_PARALLEL) {
        const results = await Promise.all(pending.slice(i, i + POLL_PARALLEL).map((item) => this.check(item)));
        changed ||= results.some(Boolean);
      }
      delay = changed ? POLL_FIRST_MS : Math.min(POLL_MAX_MS, delay * 1.6);
    }
    this.looping = false;
  }

  /** Poll one job once; true when its state moved. */
  async check(item) {
    let job;
    try {
      job = await getJob(item.jobId);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.paused = true;
      if (!(err instanceof ApiError) || err.status !== 404) return false; // transient: try again later
      job = { state: 'failed', error: 'the server lost track of this upload; try again' };
    }
    if (job.state === item.state) return false;
    if (FINAL.has(job.state)) this.polling.delete(item);
    const reason = job.state === 'failed' ? job.error || 'processing failed'
      : job.state === 'quarantined' ? 'a content check held it; an admin decides' : undefined;
    this.setState(item, job.state, { reason, imageId: job.image_id });
    if (job.state === 'done') this.onIndexed(job.image_id);
    return true;
  }

  updateSummary() {
    const count = (state) => this.items.filter((item) => item.state === state).length;
    const active = this.items.length - [...FINAL].reduce((sum, state) => sum + count(state), 0);
    const parts = [
      active && `${active} in progress`,
      count('done') && `${count('done')} done`,
      count('duplicate') && `${count('duplicate')} already there`,
      count('quarantined') && `${count('quarantined')} held for review`,
      count('failed') && `${count('failed')} failed`,
    ].filter(Boolean);
    this.summary.textContent = parts.join(' · ');
    this.panel.dataset.busy = String(active > 0);
  }

  setCollapsed(collapsed) {
    this.panel.classList.toggle('collapsed', collapsed);
    this.toggle.setAttribute('aria-expanded', String(!collapsed));
    this.toggle.setAttribute('aria-label', collapsed ? 'Expand uploads' : 'Collapse uploads');
  }

  /** Drop finished rows; hide the panel when nothing is left. */
  clearFinished() {
    for (const item of this.items.filter((i) => FINAL.has(i.state))) item.row.remove();
    this.items = this.items.filter((item) => !FINAL.has(item.state));
    this.panel.hidden = this.items.length === 0;
    this.updateSummary();
  }
}

/** Up to BATCH_FILES files and BATCH_BYTES bytes (always at least one file). */
function takeBatch(queue) {
  const batch = [queue.shift()];
  let bytes = batch[0].file.size;
  while (queue.length && batch.length < BATCH_FILES && bytes + queue[0].file.size <= BATCH_BYTES) {
    bytes += queue[0].file.size;
    batch.push(queue.shift());
  }
  return batch;
}

/** The answer for the i-th file: same position (the API keeps order), else the same filename. */
function matchByName(entries, i, item) {
  if (entries[i]?.filename === item.file.name) return entries[i];
  return entries.find((entry) => entry.filename === item.file.name) ?? entries[i];
}
