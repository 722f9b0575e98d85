"""``python -m ryu_midonet.bench``: see :mod:`ryu_midonet.bench.cli`."""

from ryu_midonet.bench.cli import main

raise SystemExit(main())
