"""Write the environment ``make dev`` runs the stack with (data/dev.env): the model, its secrets.

The production model (ViT-B-32, laion2b_s34b_b79k) is used when its weights are in the cache
or can be fetched now; otherwise the stack starts with the tiny demo model trained on coloured
shapes, and this says so loudly. The services themselves never switch models on their own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import secrets
import socket
import sys
from pathlib import Path

from shared.private_files import write_private

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("ViT-B-32", "laion2b_s34b_b79k")
TINY = ("tiny-shapes", "shared/shared/assets/tiny-shapes.safetensors")
FETCH_TIMEOUT_S = 600
HUB_HOST = "huggingface.co"
# Made once, kept across runs: sessions and signed links outlive a restart.
SECRETS = ("AUTH__JWT_SECRET", "SIGNING__SECRET")
DEV_PORTS = {
    6379: "Redis",
    9000: "MinIO",
    9001: "MinIO console",
    19530: "Milvus",
    8000: "ingestapi",
    8001: "searchapi",
    8002: "cdnapi",
    8003: "ingestworker ops",
    3000: "front door",
}


def _load(name: str, pretrained: str, cache_dir: str, offline: bool) -> None:
    """In a child process: load the weights (from the cache only, if ``offline``); quietly."""
    import logging

    logging.disable(logging.CRITICAL)  # a failed fetch is an answer here, not an error
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
    import open_clip

    try:
        open_clip.create_model_and_transforms(name, pretrained=pretrained, cache_dir=cache_dir)
    except Exception:  # noqa: BLE001 (any failure means: not available)
        raise SystemExit(1) from None


def _loads(cache_dir: Path, offline: bool, timeout_s: float) -> bool:
    child = multiprocessing.get_context("spawn").Process(
        target=_load, args=(*PRODUCTION, str(cache_dir), offline)
    )
    child.start()
    child.join(timeout_s)
    if child.is_alive():
        child.kill()
        return False
    return child.exitcode == 0


def _hub_resolves() -> bool:
    try:
        socket.getaddrinfo(HUB_HOST, 443)
    except OSError:
        return False
    return True


def production_weights_available(cache_dir: Path) -> bool:
    """Cached weights load offline; otherwise fetch them, if the hub can be reached at all."""
    if _loads(cache_dir, offline=True, timeout_s=120):
        return True
    if not _hub_resolves():
        return False
    print(f"fetching {PRODUCTION[0]} weights into {cache_dir} ...", file=sys.stderr)
    return _loads(cache_dir, offline=False, timeout_s=FETCH_TIMEOUT_S)


def busy_ports() -> list[str]:
    """The ports make dev needs that something else already listens on."""
    busy = []
    for port, owner in DEV_PORTS.items():
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"{port} ({owner})")
    return busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "dev.env")
    parser.add_argument(
        "--model",
        choices=["auto", "production", "tiny"],
        default="auto",
        help="auto: the model of the previous run, else production if its weights can be had",
    )
    args = parser.parse_args()
    if busy := busy_ports():
        sys.exit(
            f"make dev needs these loopback ports, which are in use: {', '.join(busy)}.\n"
            "Is a previous `make dev` still running, or a system service (on Debian: "
            "`sudo systemctl stop redis-server nginx`)?"
        )

    cache_dir = ROOT / "data" / "models"
    cache_dir.mkdir(parents=True, exist_ok=True)
    previous = _read_env(args.out)
    name, weights = choose_model(args.model, previous, cache_dir)
    write_env(
        args.out,
        {
            "MODEL__NAME": name,
            "MODEL__PRETRAINED": weights,
            "MODEL__CACHE_DIR": str(cache_dir),
            # Reads are open on loopback; writes need a credential (data/admin-credentials).
            "AUTH__PUBLIC_READ": "true",
            **{secret: previous.get(secret) or secrets.token_hex(32) for secret in SECRETS},
        },
    )
    if (name, weights) == TINY:
        banner = "!" * 78
        print(
            f"\n{banner}\n"
            "  DEMO MODEL: the tiny model trained on coloured shapes. It understands\n"
            "  'a red circle', not your photos. `make demo` loads sample pictures.\n"
            f"  For {PRODUCTION[0]} (needs its weights: cached or the hub reachable): with the\n"
            "  stack running, `make reindex`; then restart with `make dev MODEL=production`.\n"
            f"{banner}\n",
            file=sys.stderr,
        )
    print(f"model: {name} ({weights})", file=sys.stderr)


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def write_env(path: Path, values: dict[str, str]) -> None:
    """Owner-only: the file holds the session and link-signing secrets."""
    write_private(path, "".join(f"{key}={value}\n" for key, value in values.items()))


def choose_model(wanted: str, previous: dict[str, str], cache_dir: Path) -> tuple[str, str]:
    """An explicit choice wins; otherwise keep the model this data was indexed with.

    Switching on its own would make the services refuse the existing index (it holds the other
    model's vectors), so the first run's choice stays until someone re-indexes and asks.
    """
    if wanted == "production":
        return PRODUCTION
    if wanted == "tiny":
        return TINY
    if (previous.get("MODEL__NAME"), previous.get("MODEL__PRETRAINED")) in (PRODUCTION, TINY):
        return previous["MODEL__NAME"], previous["MODEL__PRETRAINED"]
    return PRODUCTION if production_weights_available(cache_dir) else TINY


if __name__ == "__main__":
    main()
