"""``ObjectStore.delete_many`` on a real MinIO: one request deletes what it names, a key that is
not there is no error (as with ``delete``), and nothing else goes."""

from __future__ import annotations

from typing import Any

from shared.domain import staging_key


def test_delete_many_deletes_the_named_keys_missing_or_not_and_keeps_the_rest(
    stack_factory: Any,
) -> None:
    stack = stack_factory("object-store")
    objects = stack.objects()
    objects.ensure_bucket()
    keys = [staging_key(f"{digit}" * 64) for digit in "1234"]
    for key in keys:
        objects.put(key, key.encode(), "application/octet-stream")

    objects.delete_many([keys[0], keys[2], staging_key("9" * 64)])  # the last was never there
    objects.delete_many([])

    assert sorted(objects.keys("staging/")) == [keys[1], keys[3]]
    assert objects.get(keys[1]) == keys[1].encode()
