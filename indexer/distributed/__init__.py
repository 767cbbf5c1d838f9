"""Builds spread over a Ray cluster: the same index, written and published by the driver as a local build does.

`ray_cluster` joins (or starts) the cluster; `RayPassages` is the passage stage that `indexer.build.build_index`
runs on it. Ray is imported only inside them, so the package imports without the `ray` extra.
"""

from indexer.distributed.cluster import ClusterOptions, RayBuildError, ray_cluster
from indexer.distributed.pipeline import EncoderSpec, RayPassages

__all__ = ["ClusterOptions", "EncoderSpec", "RayBuildError", "RayPassages", "ray_cluster"]
