"""localcloud: wire-compatible local OSS, MNS, FC runtime and CloudFlow engine on loopback."""
