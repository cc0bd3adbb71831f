// The HTTP contract with ingestapi and searchapi (both behind the same origin).
// Failures are thrown as ApiError carrying the RFC 9457 problem, so callers can show its `detail`.

const API = '/api/v1';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
  }
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

async function request(path, { params, ...init } = {}) {
  const query = params ? `?${toQuery(params)}` : '';
  let response;
  try {
    response = await fetch(`${API}${path}${query}`, { headers: { Accept: 'application/json' }, ...init });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, { detail: describeStatus(0) });
  }
  if (!response.ok) throw new ApiError(response.status, await problemFrom(response));
  return response.status === 204 ? null : response.json();
}

function toQuery(params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [value].flat()) if (v !== undefined && v !== null && v !== '') query.append(key, v);
  }
  return query.toString();
}

/** `filters`: {format: [...], min_width, min_height, after, before, tag} (see filters.js apiFilters). */
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
 * The library, a page at a time: pass the answer's `next_cursor` back (with the same sort and tag)
 * for the next page; it is null after the last. The answer carries `total` for that tag.
 */
export const listImages = ({ limit, cursor, signal }, { sort = 'newest', tag } = {}) =>
  request('/image', { params: { sort, tag, limit, cursor }, signal });

export const getImage = (id, { signal } = {}) => request(`/image/${encodeURIComponent(id)}`, { signal });

export const getJob = (jobId) => request(`/ingest/jobs/${encodeURIComponent(jobId)}`);

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
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded, e.total);
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = { status: xhr.status, detail: describeStatus(xhr.status) };
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new ApiError(0, { detail: describeStatus(0) }));
    xhr.ontimeout = xhr.onerror;
    xhr.send(form);
  });
}
