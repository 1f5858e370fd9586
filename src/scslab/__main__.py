"""``python -m scslab``: the command line (``scslab.cli.main``)."""

try:
    from scslab.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing has started yet
    import sys

    sys.stderr.write("interrupted\n")
    sys.exit(130)

main()
