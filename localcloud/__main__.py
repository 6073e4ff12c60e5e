"""`python -m localcloud ...` (what the launcher runs)."""

from localcloud.cli import main

main()
