// The HTTP contract with ingestapi and searchapi (both behind the same origin).
// Failures are thrown as ApiError carrying the RFC 9457 problem, so callers can show its `detail`.
// Credentials: the page's session is an HttpOnly cookie the browser sends by itself; every unsafe
// request also carries the readable `isk_csrf` cookie's value as `X-CSRF-Token` (csrfHeaders, the
// one place that does). A 401 outside /auth/ tells the listener set by onUnauthenticated().

const API = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const CSRF_COOKIE = 'isk_csrf';
let unauthenticated = () => {};

export class ApiError extends Error {
  constructor(status, problem, retryAfterS = null) {
    const text = problem?.detail || problem?.title || `HTTP ${status}`;
    super(retryAfterS === null ? text : `${text}; try again in ${describeWait(retryAfterS)}`);
    this.status = status;
    this.problem = problem ?? {};
    this.retryAfterS = retryAfterS;
  }
}

/** Call `listener(problem)` when a request is refused for want of a (still valid) session. */
export function onUnauthenticated(listener) {
  unauthenticated = listener;
}

/** The header an unsafe request needs; the cookie's value as the server set it. */
export function csrfHeaders(method = 'GET') {
  if (!UNSAFE.has(method.toUpperCase())) return {};
  const prefix = `${CSRF_COOKIE}=`;
  const cookie = document.cookie.split(';').map((part) => part.trim()).find((part) => part.startsWith(prefix));
  return cookie ? { 'X-CSRF-Token': cookie.slice(prefix.length) } : {};
}

function refused(path, status, problem) {
  if (status === 401 && !path.startsWith('/auth/')) unauthenticated(problem);
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); null when absent. */
function retryAfter(headers) {
  const value = headers.get('retry-after');
  if (!value) return null;
  const seconds = /^\d+$/.test(value) ? Number(value) : (Date.parse(value) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : null;
}

function describeWait(seconds) {
  if (seconds < 90) return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

async function problemFrom(response) {
  const type = response.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      return await response.json();
    } catch {
      /* fall through to a generic problem */
    }
  }
  return { title: response.statusText, status: response.status, detail: describeStatus(response.status) };
}

/** A human sentence for statuses that arrive without a problem body (e.g. from the proxy). */
export function describeStatus(status) {
  if (status === 0) return 'the server could not be reached; check your connection';
  if (status === 413) return 'the upload is larger than the server accepts';
  if (status === 502 || status === 503 || status === 504) {
    return 'the service is unavailable right now; try again in a moment';
  }
  return `the server answered HTTP ${status}`;
}

async function request(path, { params, json, ...init } = {}) {
  const query = params ? `?${toQuery(params)}` : '';
  const headers = { Accept: 'application/json', ...csrfHeaders(init.method) };
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(`${API}${path}${query}`, { ...init, headers, credentials: 'same-origin' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { detail: describeStatus(0) });
  }
  if (!response.ok) {
    const problem = await problemFrom(response);
    refused(path, response.status, problem);
    throw new ApiError(response.status, problem, retryAfter(response.headers));
  }
  return response.status === 204 ? null : response.json();
}

function toQuery(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [value].flat()) if (v !== undefined && v !== null && v !== '') query.append(key, v);
  }
  return query.toString();
}

/** `filters`: {format: [...], min_width, min_height, after, before, tag, camera_id} (filters.js apiFilters). */
export const searchText = (text, { limit, offset, signal }, filters = {}) =>
  request('/image/search', { params: { text, limit, offset, ...filters }, signal });

export function searchByFile(file, { limit, offset, signal }, filters = {}) {
  const body = new FormData();
  body.append('file', file, file.name);
  return request('/image/search', { method: 'POST', body, params: { limit, offset, ...filters }, signal });
}

export const similarTo = (id, { limit, offset, signal }) =>
  request(`/image/${encodeURIComponent(id)}/similar`, { params: { limit, offset }, signal });

/**
 * The library, a page at a time: pass the answer's `next_cursor` back (with the same sort, tag and
 * camera) for the next page; it is null after the last. The answer carries `total` for them.
 */
export const listImages = ({ limit, cursor, signal }, { sort = 'newest', tag, camera_id } = {}) =>
  request('/image', { params: { sort, tag, camera_id, limit, cursor }, signal });

/** {cameras: [{camera_id, name, images}]}: the cameras with images in the library (name null: deleted). */
export const listCameras = () => request('/image/cameras');

export const getImage = (id, { signal } = {}) => request(`/image/${encodeURIComponent(id)}`, { signal });

/**
 * Ask for a variant of an image (editors): {variant_id, image_id, state, params, url, job_id}. The
 * same parameters name the same variant: asked for again, it answers the one there is.
 */
export const requestVariant = (id, params) =>
  request(`/ingest/images/${encodeURIComponent(id)}/variants`, { method: 'POST', json: params });

/** {image_id, variants: [{variant_id, params, state, url, mime, width, height, bytes, error, …}]}. */
export const listVariants = (id, { signal } = {}) =>
  request(`/image/${encodeURIComponent(id)}/variants`, { signal });

/** {url, expires_at}: a link to the image's bytes, signed until expires_at (unix seconds). */
export const signedLink = (id, ttl) => request(`/image/${encodeURIComponent(id)}/link`, { params: { ttl } });

/**
 * Groups of near-duplicates, a page at a time: {max_distance, groups: [{images}], next_cursor}; each
 * group's images come largest first, each with its `distance` (differing hash bits) to the first.
 */
export const listDuplicates = ({ limit, cursor, signal }) =>
  request('/image/duplicates', { params: { limit, cursor }, signal });

/** {image_id, max_distance, duplicates: [image + distance]}: the image's near-duplicates, not itself. */
export const duplicatesOf = (id, { maxDistance } = {}) =>
  request(`/image/${encodeURIComponent(id)}/duplicates`, { params: { max_distance: maxDistance } });

export const getJob = (jobId) => request(`/ingest/jobs/${encodeURIComponent(jobId)}`);

/** One image fetched by the server from a public http(s) URL: {jobs: [one job]}. */
export const ingestUrl = (url) => request('/ingest/url', { method: 'POST', json: { url } });

export const deleteImage = (id) => request(`/ingest/images/${encodeURIComponent(id)}`, { method: 'DELETE' });

/** Add and remove tags in one step; resolves with {id, tags} (the image's tags now). */
export const changeTags = (id, { add = [], remove = [] }) =>
  request(`/image/${encodeURIComponent(id)}/tags`, { method: 'PATCH', json: { add, remove } });

/** {authenticated, kind, name, role, public_read, expires_at}; never a 401. */
export const me = () => request('/auth/me');

/** {name, role, kind, expires_at, csrf_token}; the session cookies come with it. */
export const login = (username, password) =>
  request('/auth/login', { method: 'POST', json: { username, password } });

export const logout = () => request('/auth/logout', { method: 'POST' });

/**
 * POST files as one multipart request. Resolves with {status, body} whatever the status (the
 * caller maps per-file outcomes); rejects only when the request never completed.
 * onProgress(loadedBytes, totalBytes) follows the upload of the request body.
 */
export function uploadFiles(files, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const file of files) form.append('files', file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API}/ingest`);
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [name, value] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(name, value);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = { status: xhr.status, detail: describeStatus(xhr.status) };
      }
      refused('/ingest', xhr.status, body);
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new ApiError(0, { detail: describeStatus(0) }));
    xhr.ontimeout = xhr.onerror;
    xhr.send(form);
  });
}
