"""Launch remote-gym servers on a Ray cluster (optional extra ``ray``): placement, restarts, discovery.

Ray does the cluster work; the step path stays remote-gym's own gRPC stream. ``import remote_gym``
never imports this package or Ray.
"""

from remote_gym.ray.cluster import EnvCluster
from remote_gym.ray.records import ServerRecord

__all__ = ["EnvCluster", "ServerRecord"]
