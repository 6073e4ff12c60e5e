"""CDK for Terraform app: one stack per environment (`python -m infra --help`)."""

import os

# jsii prints a banner on node 20 unless told it was seen; infra runs on the node it finds
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
