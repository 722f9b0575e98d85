"""``midonet-cli``: the interactive and one-shot command line of the MidoNet v5 REST API.

The grammar is the one of the MidoNet Operations Guide::

    midonet> router router0 add port addresses 172.19.0.2/30
    router0:port0
    midonet> router router0 list port
    port port0 device router0 state up mac 02:... addresses 172.19.0.2/30

Modules, one job each:

- :mod:`.settings`  command-line flags, environment and ``~/.midonetrc``
- :mod:`.http`      the HTTP client of the REST API (login, JSON, error replies)
- :mod:`.values`    text <-> API value codecs (CIDRs, NAT targets, port ranges, ...)
- :mod:`.attrs`     attribute kinds: how one CLI attribute reads and writes API fields
- :mod:`.model`     the object types, their attributes in display order, their collections
- :mod:`.aliases`   the alias table (``router0``, ``bridge0:port1``, ...)
- :mod:`.session`   listing objects, resolving aliases and naming references
- :mod:`.tokens`    the tokenizer and the verb table
- :mod:`.parser`    words -> a structured command
- :mod:`.formatter` objects -> output lines
- :mod:`.commands`  running a structured command
- :mod:`.shell`     the interactive prompt
- :mod:`.main`      the console-script entry point
"""
