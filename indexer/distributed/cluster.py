"""Joining a Ray cluster for one build: `local` (started in-process), `auto` or an address, with a small footprint.

Ray is an optional extra (`pip install seedsearch[ray]`): nothing here imports it before a build asks for it.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_GCS_PORT = 6379
DEFAULT_CLIENT_PORT = 10001


class RayBuildError(RuntimeError):
    """A distributed build could not run or did not finish; the message is one line for the user."""


@dataclass(frozen=True)
class ClusterOptions:
    """Where the cluster is and, for `local`, how much of this machine it may take."""

    address: str  # "local", "auto", "HOST:PORT" or "ray://HOST:PORT"
    connect_timeout_s: float = 15.0
    local_cpus: int | None = None  # `local` only; default: every core this process may use
    local_object_store_mb: int = 256  # `local` only; Ray's floor is 75 MB


def import_ray() -> Any:
    """The `ray` module, or a clear error saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  (the build runs as a Ray Data pipeline)
    except ImportError as err:
        raise RayBuildError(
            f"--ray needs Ray Data, which is not installed ({err}); install it with `pip install 'seedsearch[ray]'`"
        ) from None
    return ray


def gcs_endpoint(address: str) -> tuple[str, int] | None:
    """(host, port) that must answer for `address` to be reachable; None for `local`, `auto` or an odd address."""
    if address in ("local", "auto"):
        return None
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    if not parts.hostname:
        return None
    default = DEFAULT_CLIENT_PORT if parts.scheme == "ray" else DEFAULT_GCS_PORT
    try:
        return parts.hostname, parts.port or default
    except ValueError:  # a port that is not a number: let Ray say what is wrong with the address
        return None


def check_reachable(address: str, timeout_s: float) -> None:
    """Fail in at most `timeout_s` when nothing listens at the cluster's address (Ray itself would retry for long)."""
    endpoint = gcs_endpoint(address)
    if endpoint is None:
        return
    try:
        with socket.create_connection(endpoint, timeout=timeout_s):
            pass
    except OSError as err:
        raise RayBuildError(
            f"cannot reach the Ray cluster at {address} within {timeout_s:g} s ({err.strerror or err}); "
            "start it with `ray start --head` there, or check the address"
        ) from None


@contextmanager
def ray_cluster(options: ClusterOptions, log: Any = lambda message: None) -> Iterator[Any]:
    """Ray, connected for the length of the block; a cluster this block joined or started is left afterwards.

    A process that already called `ray.init` (a test, a notebook) keeps its own connection.
    """
    ray = import_ray()
    check_reachable(options.address, options.connect_timeout_s)
    if ray.is_initialized():
        yield ray
        return
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if options.address == "local":
            cpus = options.local_cpus or len(os.sched_getaffinity(0))
            ray.init(num_cpus=cpus, object_store_memory=options.local_object_store_mb * 2**20, **quiet)
        else:
            del quiet["include_dashboard"]  # a cluster's dashboard is the cluster's business
            ray.init(address=options.address, **quiet)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise RayBuildError(f"cannot join the Ray cluster at {options.address}: {first}") from None
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    resources = ray.cluster_resources()
    log(f"ray: {options.address}: {len(ray.nodes())} node(s), {resources.get('CPU', 0):g} CPUs, "
        f"{resources.get('GPU', 0):g} GPUs")
    try:
        yield ray
    finally:
        ray.shutdown()
