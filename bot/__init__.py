"""The entry layer: transports, the dispatcher, chat routers and the CLI."""

import os

# OpenMP threads (scikit-learn's k-means and silhouette in the interest circles) sleep while
# they wait instead of spinning: on a busy two-core machine the spinning took the circles of
# a 1M-member run from 3.7 to as much as 14.8 s of CPU (docs/performance.md, Segmentation).
# The runtime reads this once, when it loads, so it is set here, before anything imports
# scikit-learn; an operator's own setting wins. Results are the same either way.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
