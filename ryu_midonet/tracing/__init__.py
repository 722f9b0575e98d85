"""Packet tracing: why a packet goes where it goes, and what the switch gets for it.

- :mod:`.packet`   a packet described by command-line style fields, validated
- :mod:`.offline`  a packet simulated against a topology as its ingress host's agent would,
  with no traffic and nothing written: the decision, its trace and the flows
- :mod:`.render`   the text of an offline trace
- :mod:`.tracers`  ``mm-trace`` tracers as the API's trace requests, and back
- :mod:`.matching` which trace requests a simulated packet meets
- :mod:`.live`     live tracing in the agent: traced packets' simulations and flows logged
- :mod:`.tracelog` live tracing's state in the store: each request's count and trace log
"""
