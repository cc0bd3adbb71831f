"""``imgsearch``: ingest folders of images into an Image search server and search them."""

__version__ = "0.1.0"
