"""``make bench``: ryu-midonet against peers measured in the same run, on the same sandbox.

``python -m ryu_midonet.bench`` brings up the sandbox described in :mod:`.layout` once per
controller (ryu-midonet's agents, faucet, plain Open vSwitch NORMAL forwarding), measures the
traffic cases each of them can carry (:mod:`.measure`) and prints every figure with its ratio
to each peer (:mod:`.report`). Timings are reported, never asserted.
"""
