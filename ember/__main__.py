"""``python -m ember``: the ``ember`` command (see ``ember.cli``)."""

from ember.cli import main

if __name__ == "__main__":
    main()
