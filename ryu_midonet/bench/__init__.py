"""``make bench``: ryu-midonet against peers measured in the same run, on the same sandbox.

``python -m ryu_midonet.bench`` brings up the sandbox described in :mod:`.layout` once per
controller (ryu-midonet's agents, faucet, plain Open vSwitch NORMAL forwarding), measures the
traffic cases each of them can carry (:mod:`.measure`) and prints every figure with its ratio
to each peer (:mod:`.report`). ryu-midonet's NAT cases (:mod:`.nat`), which no peer has, are
compared with its own plain routed path of the same run. Every connection rate and iperf3
figure comes with what it cost the datapath (:mod:`.dpcost`): counts that a busy machine does
not change. Timings are reported, never asserted.
"""
