"""Where an exterior virtual port is: bound here (an OpenFlow port) or behind a tunnel."""

from __future__ import annotations

from ryu_midonet.datapath.translator import Local, Location, Remote
from ryu_midonet.sim.core.topology import DictView


class Locator:
    """Resolves virtual ports to locations for one host, from the local topology copy.

    ``ofports`` maps the virtual ports plugged on this host to their OpenFlow port numbers;
    ``tunnels`` maps tunnel types (``vxlan``/``gre``) to the OpenFlow port of that tunnel.
    ``view`` is the topology as the simulator reads it.
    The tags of what a resolution depended on (the port, the tunnel zone) accumulate in
    :attr:`tags` so the caller can attach them to the flow it builds. The remote host's own
    record is not one of them: it is written again whenever that host's interfaces change
    (a VM's tap comes or goes), and a location depends only on the port's ``hostId`` and
    ``tunnelKey`` and on the zone's members and addresses.
    """

    def __init__(self, view: DictView, host_id: str, ofports: dict[str, int],
                 tunnels: dict[str, int]) -> None:
        self.view = view
        self.host_id = host_id
        self.ofports = ofports
        self.tunnels = tunnels
        self.tags: set[str] = set()

    def __call__(self, port_id: str) -> Location | None:
        port = self.view.get("port", port_id)
        self.tags.add(port_id)
        if port is None or not port.get("hostId"):
            return None
        host = port["hostId"]
        if host == self.host_id:
            ofport = self.ofports.get(port_id)
            return Local(ofport) if ofport else None
        return self.host(host, port["tunnelKey"])

    def host(self, host: str, key: int) -> Remote | None:
        """The tunnel to another host, with tunnel key ``key`` (None: no shared zone)."""
        for zone in self._zones():
            if host not in zone["hostIds"] or self.host_id not in zone["hostIds"]:
                continue
            tunnel = self.tunnels.get(zone["type"])
            if tunnel is None:
                continue
            self.tags.add(zone["id"])
            address = next(m["ipAddress"] for m in zone["tzHosts"] if m["hostId"] == host)
            return Remote(tunnel, address, key)
        return None

    def tunnel_ip(self) -> str | None:
        """This host's own tunnel address (from its overlay tunnel zone membership)."""
        for zone in self._zones():
            if zone["type"] != "vtep":
                for member in zone["tzHosts"]:
                    if member["hostId"] == self.host_id:
                        return str(member["ipAddress"])
        return None

    def _zones(self) -> list[dict]:
        return list(self.view.objects().get("tunnelZone", {}).values())
