"""Allow `python -m linkfresh`."""

from linkfresh.cli import main

main()
