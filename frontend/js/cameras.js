// The cameras the library's images came from (GET /api/v1/image/cameras: anyone who may read gets
// it, unlike the admin's camera list): the filter panel's Camera select, and the names the
// viewer and the results' summary show. The select is hidden while the library has no camera
// images. The camera lives in the URL with the other filters and narrows the library and both
// kinds of search:
//   /?camera=<camera id>             the library, only frames from that camera
//   /?q=a+red+car&camera=<camera id>  a text search among them

import * as api from './api.js';

// What the API accepts as a camera id (it refuses the request otherwise).
const VALID = /^[\w.:-]{1,64}$/;

/** A camera id from the URL, or '' when the API would refuse it. */
export const normaliseCamera = (value) => (VALID.test(value) ? value : '');

export class Cameras {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.list = [];
    this.pending = null;
    this.asked = false;
  }

  /** Fetch the list (again); `onChange(list)` when it has come. Failures leave the old list. */
  load() {
    this.asked = true;
    this.pending ??= api.listCameras().then(
      ({ cameras }) => {
        this.list = cameras;
        this.onChange(cameras);
      },
      () => {},
    ).finally(() => (this.pending = null));
    return this.pending;
  }

  /** What people call the camera: its name, or a short id once it has been deleted. */
  name(id) {
    if (!id) return '';
    return this.list.find((camera) => camera.camera_id === id)?.name || `camera ${id.slice(0, 8)}`;
  }
}
