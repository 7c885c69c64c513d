"""`python -m zonewarden`: the same as the `zonewarden` command."""

from zonewarden.cli import main

if __name__ == "__main__":
    main()
