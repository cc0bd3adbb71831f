"""The catalog's tables, as typed SQLAlchemy 2 models. Migrations (``migrations/``) create them.

Times are unix milliseconds (as the API answers them). ``jobs.image_id`` is not a foreign key: a
job exists before its image row does, and its history outlives a deleted image.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, int: BigInteger}


class ImageRow(Base):
    __tablename__ = "images"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(1024))
    mime: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(16))
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int]
    ingested_at: Mapped[int]
    source: Mapped[str] = mapped_column(String(16), index=True)
    camera_id: Mapped[str | None] = mapped_column(String(64), index=True)
    exif: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="indexed")
    # 64-bit perceptual hash as 16 hex digits (``shared.phash``); null until computed
    phash: Mapped[str | None] = mapped_column(String(16), index=True)
    captured_at: Mapped[int | None]  # when a camera frame was taken (camera frames only)
    tags: Mapped[list[ImageTag]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
        order_by="ImageTag.tag",
    )

    __table_args__ = (
        # Keyset pagination: (sort key, id) pairs are unique, so pages are stable under inserts.
        Index("ix_images_ingested_at_id", "ingested_at", "id"),
        Index("ix_images_filename_id", "filename", "id"),
    )


class ImageTag(Base):
    __tablename__ = "image_tags"

    image_id: Mapped[str] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    image_id: Mapped[str | None] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(1024))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(index=True)
    updated_at: Mapped[int]


class VariantRow(Base):
    """A transformation of an image, named by the hash of its image id and canonical parameters
    (``shared.variants``). Its rows go with the image's (``ON DELETE CASCADE``); ``job_id`` is the
    job that renders it now (a failed variant asked for again gets a new one)."""

    __tablename__ = "variants"

    variant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[str] = mapped_column(String(36))
    mime: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    bytes: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int]
    updated_at: Mapped[int]


class UserRow(Base):
    """A person who signs in on the page. ``session_version`` grows when their password is reset,
    they are disabled or they sign out: every session token of an older version stops working."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(default=False)
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[int]
    updated_at: Mapped[int]


class ApiKeyRow(Base):
    """A program's credential. Only the SHA-256 of the key is kept (the key is 32 random bytes, so
    a fast hash is enough); ``prefix`` names it in lists and logs."""

    __tablename__ = "api_keys"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int]
    expires_at: Mapped[int | None]
    revoked_at: Mapped[int | None]
    last_used_at: Mapped[int | None]


class CameraRow(Base):
    """An RTSP camera. ``rtsp_url`` holds its credentials (connecting needs them): never
    answered or logged unmasked (``shared.cameras.mask_rtsp_url``)."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    rtsp_url: Mapped[str] = mapped_column(Text)
    defaults: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int]
    updated_at: Mapped[int]


class CaptureRow(Base):
    """One capture from a camera (or an admin's ad-hoc URL); its id is its job's id. A deleted
    camera leaves its captures, their ``camera_id`` null (the URL they connect to is their own)."""

    __tablename__ = "captures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[str | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="SET NULL"), index=True
    )
    rtsp_url: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16))
    frames_kept: Mapped[int] = mapped_column(default=0)
    frames_skipped: Mapped[int] = mapped_column(default=0)
    reconnects: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int]
    updated_at: Mapped[int]
    finished_at: Mapped[int | None]


class ComplianceDecisionRow(Base):
    """One compliance decision about an image: a check's outcome when it arrived, or an admin's
    ``release`` / ``delete`` of a quarantined one (``decided_by``). No foreign key: a rejected
    image has no row, and the history outlives a deleted image."""

    __tablename__ = "compliance_decisions"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    image_id: Mapped[str] = mapped_column(String(64), index=True)
    job_id: Mapped[str | None] = mapped_column(String(36))
    check: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[int]
