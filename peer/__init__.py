"""The peer suite: oss2's own functional tests (shipped in its sdist) run against localcloud."""
