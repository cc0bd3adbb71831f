"""Run Milvus standalone from PyPI's ``milvus`` package with every port under our control.

``milvus-server`` (the package's own launcher) lets the proxy port be chosen but always binds the
embedded etcd on 2379/2380, so a second instance (tests beside ``make dev``) cannot start. This
renders the package's config template with all ports set, points the embedded etcd at a config of
ours, and then *execs* the Milvus binary so the caller's PID is Milvus itself (stop it by PID).

Ports other than the proxy port are picked once per data directory and kept in ``ports.json``,
so a restart on the same data finds its embedded etcd where it left it.

    python tools/milvusd.py --data data/milvus --port 19530
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

import milvus

INTERNAL_PORTS = (
    "etcd_port",
    "root_coord_port",
    "proxy_internal_port",
    "query_coord_port",
    "query_node_port",
    "index_coord_port",
    "index_node_port",
    "data_coord_port",
    "data_node_port",
)
EXTRA_PORTS = ("etcd_peer_port", "metrics_port")


def _reusable_socket() -> socket.socket:
    """A socket that binds a port whose last connections wait out TIME_WAIT, as Milvus's own (Go)
    listeners do: without it a restart on the same ports fails for up to a minute."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


class _ServerConfig(milvus.MilvusServerConfig):  # type: ignore[misc]
    """The package's config, whose port check binds as Milvus will (see ``_reusable_socket``)."""

    def try_bind_port(self, port: int) -> socket.socket | None:
        sock = _reusable_socket()
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            sock.close()
            return None
        return sock


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with _reusable_socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _ports(data_dir: Path) -> dict[str, int]:
    """Reuse the ports this data directory was started with, replacing any now taken."""
    saved_file = data_dir / "ports.json"
    saved: dict[str, int] = json.loads(saved_file.read_text()) if saved_file.exists() else {}
    ports = {}
    for name in INTERNAL_PORTS + EXTRA_PORTS:
        port = saved.get(name)
        ports[name] = port if port and _port_is_free(port) else _free_port()
    saved_file.write_text(json.dumps(ports, indent=2))
    return ports


def _write_configs(data_dir: Path, proxy_port: int, ports: dict[str, int]) -> None:
    config = _ServerConfig(data_dir=str(data_dir), proxy_port=proxy_port)
    for name in INTERNAL_PORTS:
        config.set(name, ports[name])
    config.set("etcd_log_level", "warn")
    # Bounded-consistency reads (searches) may lag writes by this much; Milvus's default is 5 s.
    config.set("common.gracefulTime", 1000)
    config.set("log.level", "warn")  # its INFO lines drown the other services in `make dev`
    config.resolve()
    etcd_conf = data_dir / "configs" / "embedEtcd.yaml"
    client = f"http://127.0.0.1:{ports['etcd_port']}"
    peer = f"http://127.0.0.1:{ports['etcd_peer_port']}"
    etcd_conf.write_text(
        f"listen-client-urls: {client}\nadvertise-client-urls: {client}\n"
        f"listen-peer-urls: {peer}\ninitial-advertise-peer-urls: {peer}\n"
        f"initial-cluster: default={peer}\n"
    )
    milvus_yaml = data_dir / "configs" / "milvus.yaml"
    text = milvus_yaml.read_text()
    text = text.replace("\netcd:\n", f"\netcd:\n  config:\n    path: {etcd_conf}\n", 1)
    milvus_yaml.write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="data directory (created)")
    parser.add_argument("--port", type=int, default=19530, help="gRPC/HTTP proxy port")
    args = parser.parse_args(argv)

    data_dir = args.data.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = _ports(data_dir)
    _write_configs(data_dir, args.port, ports)
    milvus._initialize_data_files(str(data_dir))  # unpacks the server binary once

    binary = data_dir / "bin" / "milvus"
    env = dict(os.environ)
    env.update(
        DEPLOY_MODE="STANDALONE",
        METRICS_PORT=str(ports["metrics_port"]),
        MILVUS_RUN_DIR=str(data_dir / "run"),
        LD_LIBRARY_PATH=f"{binary.parent}:{env.get('LD_LIBRARY_PATH', '')}",
    )
    print(
        f"milvus: proxy 127.0.0.1:{args.port}, health http://127.0.0.1:{ports['metrics_port']}"
        f"/healthz, data {data_dir}",
        file=sys.stderr,
        flush=True,
    )
    os.chdir(data_dir)
    os.execve(str(binary), [str(binary), "run", "standalone"], env)


if __name__ == "__main__":
    main()
