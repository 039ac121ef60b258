"""Allow `python -m linkfresh`."""

from linkfresh.cli import main

# Guarded: a child process started with "spawn" (the results writer) imports this module
# again, and must not run the command a second time.
if __name__ == "__main__":
    main()
