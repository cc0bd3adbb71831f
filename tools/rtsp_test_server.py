"""A real RTSP server on loopback for the camera tests and ``make camera-demo``.

Run it with the system Python (``/usr/bin/python3``): the GStreamer bindings are Debian's
(``gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good``).

Two mounts, both Motion-JPEG over RTP at 10 fps:
- ``/cam``: a moving ball with the wall-clock time and the stream's running time drawn on it, so
  no two frames are alike, not even across connections (each one starts its own pipeline);
- ``/static``: a still test card, for the ``min_change`` case (a scene that never changes).

The I420 caps before ``jpegenc`` matter: without them ``rtpjpegpay`` drops every frame as
"Invalid component" and clients fail with "Invalid data found". With ``--user``/``--password``
every mount asks for RTSP basic authentication. Prints ``ready`` once it listens.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

ENCODE = (
    "video/x-raw,width=320,height=240,framerate=10/1 ! videoconvert ! video/x-raw,format=I420"
    " ! jpegenc ! rtpjpegpay name=pay0 pt=26"
)
SCENES = {
    "/cam": (
        "videotestsrc is-live=true pattern=ball ! clockoverlay font-desc=Sans,16"
        " ! timeoverlay font-desc=Sans,16 valignment=bottom"
    ),
    "/static": "videotestsrc is-live=true pattern=smpte",
}
ROLE = "viewer"


def factory(source: str, protected: bool) -> GstRtspServer.RTSPMediaFactory:
    made = GstRtspServer.RTSPMediaFactory()
    made.set_launch(f"( {source} ! {ENCODE} )")
    made.set_shared(True)  # one pipeline per mount, however many clients watch
    if protected:
        made.add_role_from_structure(
            Gst.Structure.new_from_string(
                f"{ROLE}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"
            )
        )
    return made


def basic_auth(user: str, password: str) -> GstRtspServer.RTSPAuth:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    return auth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    protected = bool(args.user and args.password)

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    if protected:
        server.set_auth(basic_auth(args.user, args.password))
    mounts = server.get_mount_points()
    for path, source in SCENES.items():
        mounts.add_factory(path, factory(source, protected))
    if server.attach(None) == 0:
        sys.exit(f"cannot listen on {args.host}:{args.port}")

    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    print("ready", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
