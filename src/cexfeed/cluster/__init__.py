"""Scale-out: ``cexfeed run CONFIG.toml`` shares (venue, symbols) among N worker processes by a
static plan computed from the config (:mod:`.config`), supervises them (:mod:`.supervisor`) and
runs each shard (:mod:`.worker`). The broker (the configured sink) carries the data; nothing
is coordinated between workers."""

from .config import ClusterSpec, FeedSpec, RunConfig, Shard, load, parse, plan

__all__ = ["ClusterSpec", "FeedSpec", "RunConfig", "Shard", "load", "parse", "plan"]
