"""The MidoNet v5 REST API: every route of the topology objects, on top of :class:`Topology`."""

from __future__ import annotations

import datetime
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from ryu_midonet.nsdb import errors
from ryu_midonet.nsdb.topology import Topology
from ryu_midonet.rest import dtos as d
from ryu_midonet.rest import openapi, store_status
from ryu_midonet.rest.wsgi import ANY_BODY, Reply, Request, Route, WsgiApp

Obj = dict[str, Any]

API_VERSION = "v5.0"

# Parent collections: (parent kind, child kind, path segment under the parent).
NESTED = (
    ("bridge", "port", "ports"),
    ("router", "port", "ports"),
    ("router", "route", "routes"),
    ("chain", "rule", "rules"),
)
# Kinds a client may create at the top level, and which may be changed with PUT.
TOP_LEVEL_CREATE = ("bridge", "router", "chain", "tunnelZone", "portGroup", "ipAddrGroup")
UPDATABLE = ("bridge", "router", "port", "route", "chain", "host", "tunnelZone", "portGroup",
             "ipAddrGroup")
TENANT_KINDS = ("bridge", "router", "chain", "portGroup", "ipAddrGroup")


class Api:
    """Builds the WSGI application for one :class:`Topology`."""

    def __init__(self, topo: Topology | None) -> None:
        self.topo = topo  # type: ignore[assignment]
        self.app = WsgiApp("/midonet-api")
        self._register()
        self._add("GET", "/openapi.json", self.openapi, "application/json",
                  "This API's OpenAPI 3 description")

    @classmethod
    def routes_only(cls) -> list[Route]:
        """The routing table, without a store behind it (to describe the API)."""
        return cls(None).app.routes

    def openapi(self, req: Request) -> Reply:
        return Reply(body=openapi.build(self.app.routes), media="application/json")

    # -- helpers ---------------------------------------------------------------------------
    def dtos(self, req: Request) -> d.Dtos:
        return d.Dtos(self.topo, req.base)

    def _add(self, method: str, template: str, handler: Callable[[Request], Reply],
             media: str | None, summary: str, accepts: tuple[str, ...] = ()) -> None:
        self.app.add(method, template, handler, media, summary, accepts)

    # -- routes ----------------------------------------------------------------------------
    def _register(self) -> None:
        a = d.APPLICATION
        self._add("GET", "/", self.root, a.media, "The application root and its URI templates")
        for kind, res in d.RESOURCES.items():
            self._register_kind(kind, res)
        for parent, child, seg in NESTED:
            pres, cres = d.RESOURCES[parent], d.RESOURCES[child]
            tmpl = f"/{pres.path}/{{id}}/{seg}"
            self._add("GET", tmpl, self._list_children(parent, child), cres.collection_media,
                      f"List the {seg} of a {parent}")
            self._add("POST", tmpl, self._create_child(parent, child), cres.media,
                      f"Create a {child} in a {parent}")
        for dev in ("bridge", "router"):
            self._add("GET", f"/{d.RESOURCES[dev].path}/{{id}}/peer_ports",
                      self._peer_ports(dev), d.RESOURCES["port"].collection_media,
                      f"List the ports linked to the ports of a {dev}")
        self._register_ports()
        self._register_hosts()
        self._register_members()
        self._add("GET", "/tenants", self.list_tenants, d.TENANT.collection_media,
                  "List the tenants that own objects")
        self._add("GET", "/tenants/{id}", self.get_tenant, d.TENANT.media, "Show a tenant")
        self._add("POST", "/login", self.login, d.TOKEN.media,
                  "Log in (HTTP Basic); returns a token, also set as the sessionId cookie",
                  accepts=(ANY_BODY,))
        s = d.SYSTEM_STATE
        self._add("GET", "/system_state", self.get_system_state, s.media, "Show system state")
        self._add("PUT", "/system_state", self.put_system_state, s.media,
                  "Set system availability (READONLY refuses every write with 503)")
        store_status.register(self)

    def _register_kind(self, kind: str, res: d.Resource) -> None:
        coll, item = f"/{res.path}", f"/{res.path}/{{id}}"
        if kind != "rule" and kind != "route":
            self._add("GET", coll, self._list(kind), res.collection_media, f"List {res.path}")
        if kind in TOP_LEVEL_CREATE:
            self._add("POST", coll, self._create(kind), res.media, f"Create a {kind}")
        self._add("GET", item, self._get(kind), res.media, f"Show a {kind}")
        if kind in UPDATABLE:
            self._add("PUT", item, self._update(kind), res.media, f"Update a {kind}")
        self._add("DELETE", item, self._delete(kind), None, f"Delete a {kind}")

    def _register_ports(self) -> None:
        link = d.PORT_LINK.media
        self._add("POST", "/ports/{id}/link", self.link, link, "Link a port to a peer port")
        self._add("DELETE", "/ports/{id}/link", self.unlink, None, "Unlink a port")
        self._add("GET", "/ports/{id}/port_groups", self.port_groups_of_port,
                  d.PG_MEMBER.collection_media, "List the port groups a port belongs to")

    def _register_hosts(self) -> None:
        b, i = d.BINDING, d.INTERFACE
        self._add("GET", "/hosts/{id}/interfaces", self.interfaces, i.collection_media,
                  "List the interfaces of a host")
        self._add("GET", "/hosts/{id}/interfaces/{name}", self.interface, i.media,
                  "Show one interface of a host")
        self._add("GET", "/hosts/{id}/ports", self.list_bindings, b.collection_media,
                  "List the port bindings of a host")
        self._add("POST", "/hosts/{id}/ports", self.bind, b.media,
                  "Bind a port to an interface of the host")
        self._add("GET", "/hosts/{id}/ports/{portId}", self.get_binding, b.media,
                  "Show a binding")
        self._add("DELETE", "/hosts/{id}/ports/{portId}", self.unbind, None, "Unbind a port")

    def _register_members(self) -> None:
        t, p, ip = d.TZ_MEMBER, d.PG_MEMBER, d.IP_ADDR
        self._add("GET", "/tunnel_zones/{id}/hosts", self.list_tz_members, t.collection_media,
                  "List the members of a tunnel zone",
                  accepts=(d.GRE_TZ_MEMBER.collection_media,))
        self._add("POST", "/tunnel_zones/{id}/hosts", self.add_tz_member, t.media,
                  "Add a host to a tunnel zone", accepts=(d.GRE_TZ_MEMBER.media,))
        self._add("GET", "/tunnel_zones/{id}/hosts/{hostId}", self.get_tz_member, t.media,
                  "Show a tunnel zone member", accepts=(d.GRE_TZ_MEMBER.media,))
        self._add("DELETE", "/tunnel_zones/{id}/hosts/{hostId}", self.remove_tz_member, None,
                  "Remove a host from a tunnel zone")
        self._add("GET", "/port_groups/{id}/ports", self.list_pg_members, p.collection_media,
                  "List the member ports of a port group")
        self._add("POST", "/port_groups/{id}/ports", self.add_pg_member, p.media,
                  "Add a port to a port group")
        self._add("GET", "/port_groups/{id}/ports/{portId}", self.get_pg_member, p.media,
                  "Show a port group member")
        self._add("DELETE", "/port_groups/{id}/ports/{portId}", self.remove_pg_member, None,
                  "Remove a port from a port group")
        self._add("GET", "/ip_addr_groups/{id}/ip_addrs", self.list_ip_addrs,
                  ip.collection_media, "List the addresses of an IP address group")
        self._add("POST", "/ip_addr_groups/{id}/ip_addrs", self.add_ip_addr, ip.media,
                  "Add an address to an IP address group")
        tmpl = "/ip_addr_groups/{id}/versions/{version}/ip_addrs/{addr}"
        self._add("GET", tmpl, self.get_ip_addr, ip.media, "Show an address of a group")
        self._add("DELETE", tmpl, self.remove_ip_addr, None, "Remove an address from a group")

    # -- authentication --------------------------------------------------------------------
    def login(self, req: Request) -> Reply:
        """The mock authentication service: any credentials get a fresh token."""
        token = secrets.token_hex(16)
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
        stamp = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
        return Reply(200, {"key": token, "expires": stamp},
                     headers={"Set-Cookie": f"sessionId={token}; Expires={stamp}"})

    # -- root ------------------------------------------------------------------------------
    def root(self, req: Request) -> Reply:
        u = self.dtos(req).uri
        doc: Obj = {"uri": u("").rstrip("/") + "/", "version": API_VERSION}
        for kind, res in d.RESOURCES.items():
            if kind not in ("route", "rule"):  # reached through their router / chain
                doc[_camel(res.path)] = u(res.path)
            doc[f"{kind}Template"] = u(res.path, "{id}")
        doc["tenants"] = u("tenants")
        doc["tenantTemplate"] = u("tenants", "{id}")
        doc["systemState"] = u("system_state")
        return Reply(body=doc)

    # -- generic kinds ---------------------------------------------------------------------
    def _list(self, kind: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            tenant = req.query.get("tenant_id")
            if tenant and kind in TENANT_KINDS:
                objs = self.topo.list(kind, "tenantId", tenant)
            else:
                objs = self.topo.list(kind)
            dtos = self.dtos(req)
            return Reply(body=[dtos.of(kind, o) for o in objs])

        return handler

    def _get(self, kind: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            obj = self.topo.get(kind, _uuid(req.params["id"], kind))
            return Reply(body=self.dtos(req).of(kind, obj))

        return handler

    def _created(self, req: Request, kind: str, obj: Obj) -> Reply:
        dto = self.dtos(req).of(kind, obj)
        return Reply(201, dto, location=dto["uri"])

    def _create(self, kind: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            return self._created(req, kind, self.topo.create(kind, req.body))

        return handler

    def _create_child(self, parent: str, child: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            parent_id = _uuid(req.params["id"], parent)
            self.topo.get(parent, parent_id)
            return self._created(req, child, self.topo.create(child, req.body, parent_id))

        return handler

    def _list_children(self, parent: str, child: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            parent_id = _uuid(req.params["id"], parent)
            self.topo.get(parent, parent_id)
            if child == "rule":
                objs = self.topo.rules_of(parent_id)
            else:
                field = "deviceId" if child == "port" else "routerId"
                objs = self.topo.list(child, field, parent_id)
            dtos = self.dtos(req)
            return Reply(body=[dtos.of(child, o) for o in objs])

        return handler

    def _peer_ports(self, dev: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            dev_id = _uuid(req.params["id"], dev)
            self.topo.get(dev, dev_id)
            peers = [self.topo.store.get("port", p["peerId"])
                     for p in self.topo.list("port", "deviceId", dev_id) if p.get("peerId")]
            dtos = self.dtos(req)
            return Reply(body=[dtos.of("port", p) for p in peers if p])

        return handler

    def _update(self, kind: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            obj = self.topo.update(kind, _uuid(req.params["id"], kind), req.body)
            return Reply(body=self.dtos(req).of(kind, obj))

        return handler

    def _delete(self, kind: str) -> Callable[[Request], Reply]:
        def handler(req: Request) -> Reply:
            self.topo.delete(kind, _uuid(req.params["id"], kind))
            return Reply(204)

        return handler

    # -- ports -----------------------------------------------------------------------------
    def link(self, req: Request) -> Reply:
        body = req.body if isinstance(req.body, dict) else {}
        port = self.topo.link(_uuid(req.params["id"], "port"), body.get("peerId"))
        dto = self.dtos(req)
        return Reply(201, {"portId": port["id"], "peerId": port["peerId"]},
                     location=dto.uri("ports", port["id"], "link"))

    def unlink(self, req: Request) -> Reply:
        self.topo.unlink(_uuid(req.params["id"], "port"))
        return Reply(204)

    def port_groups_of_port(self, req: Request) -> Reply:
        port_id = _uuid(req.params["id"], "port")
        self.topo.get("port", port_id)
        dtos = self.dtos(req)
        return Reply(body=[dtos.pg_member(pg["id"], port_id)
                           for pg in self.topo.list("portGroup", "portIds", port_id)])

    # -- hosts -----------------------------------------------------------------------------
    def interfaces(self, req: Request) -> Reply:
        host = self.topo.get("host", _uuid(req.params["id"], "host"))
        dtos = self.dtos(req)
        return Reply(body=[dtos.interface(host["id"], i) for i in host["interfaces"]])

    def interface(self, req: Request) -> Reply:
        host = self.topo.get("host", _uuid(req.params["id"], "host"))
        for iface in host["interfaces"]:
            if iface.get("name") == req.params["name"]:
                return Reply(body=self.dtos(req).interface(host["id"], iface))
        raise errors.NotFound("interface", req.params["name"])

    def list_bindings(self, req: Request) -> Reply:
        host_id = _uuid(req.params["id"], "host")
        self.topo.get("host", host_id)
        dtos = self.dtos(req)
        return Reply(body=[dtos.binding(p) for p in self.topo.list("port", "hostId", host_id)])

    def bind(self, req: Request) -> Reply:
        body = _body(req)
        view = self.topo.bind(_uuid(req.params["id"], "host"), body.get("portId"),
                              body.get("interfaceName"))
        dto = self.dtos(req).binding(self.topo.get("port", view["portId"]))
        return Reply(201, dto, location=dto["uri"])

    def get_binding(self, req: Request) -> Reply:
        host_id = _uuid(req.params["id"], "host")
        port = self.topo.store.get("port", _uuid(req.params["portId"], "port"))
        if port is None or port.get("hostId") != host_id:
            raise errors.NotFound("binding", f"{host_id}/{req.params['portId']}")
        return Reply(body=self.dtos(req).binding(port))

    def unbind(self, req: Request) -> Reply:
        self.topo.unbind(_uuid(req.params["id"], "host"), _uuid(req.params["portId"], "port"))
        return Reply(204)

    # -- tunnel zone members ---------------------------------------------------------------
    def list_tz_members(self, req: Request) -> Reply:
        tz = self.topo.get("tunnelZone", _uuid(req.params["id"], "tunnelZone"))
        dtos = self.dtos(req)
        return Reply(body=[dtos.tz_member(tz, m["hostId"]) for m in tz["tzHosts"]])

    def add_tz_member(self, req: Request) -> Reply:
        body = _body(req)
        tz_id = _uuid(req.params["id"], "tunnelZone")
        view = self.topo.add_tunnel_zone_member(tz_id, body.get("hostId"),
                                                body.get("ipAddress"))
        dto = self.dtos(req).tz_member(self.topo.get("tunnelZone", tz_id), view["hostId"])
        return Reply(201, dto, location=dto["uri"])

    def get_tz_member(self, req: Request) -> Reply:
        tz = self.topo.get("tunnelZone", _uuid(req.params["id"], "tunnelZone"))
        return Reply(body=self.dtos(req).tz_member(tz, _uuid(req.params["hostId"], "host")))

    def remove_tz_member(self, req: Request) -> Reply:
        self.topo.remove_tunnel_zone_member(_uuid(req.params["id"], "tunnelZone"),
                                            _uuid(req.params["hostId"], "host"))
        return Reply(204)

    # -- port group members ----------------------------------------------------------------
    def list_pg_members(self, req: Request) -> Reply:
        pg = self.topo.get("portGroup", _uuid(req.params["id"], "portGroup"))
        dtos = self.dtos(req)
        return Reply(body=[dtos.pg_member(pg["id"], p) for p in pg["portIds"]])

    def add_pg_member(self, req: Request) -> Reply:
        pg_id = _uuid(req.params["id"], "portGroup")
        view = self.topo.add_port_group_member(pg_id, _body(req).get("portId"))
        dto = self.dtos(req).pg_member(pg_id, view["portId"])
        return Reply(201, dto, location=dto["uri"])

    def get_pg_member(self, req: Request) -> Reply:
        pg = self.topo.get("portGroup", _uuid(req.params["id"], "portGroup"))
        port_id = _uuid(req.params["portId"], "port")
        if port_id not in pg["portIds"]:
            raise errors.NotFound("port group member", f"{pg['id']}/{port_id}")
        return Reply(body=self.dtos(req).pg_member(pg["id"], port_id))

    def remove_pg_member(self, req: Request) -> Reply:
        self.topo.remove_port_group_member(_uuid(req.params["id"], "portGroup"),
                                           _uuid(req.params["portId"], "port"))
        return Reply(204)

    # -- IP address group addresses --------------------------------------------------------
    def list_ip_addrs(self, req: Request) -> Reply:
        group = self.topo.get("ipAddrGroup", _uuid(req.params["id"], "ipAddrGroup"))
        dtos = self.dtos(req)
        return Reply(body=[dtos.ip_addr(group["id"], a) for a in group["addresses"]])

    def add_ip_addr(self, req: Request) -> Reply:
        group_id = _uuid(req.params["id"], "ipAddrGroup")
        addr = self.topo.add_ip_addr(group_id, _body(req).get("addr"))
        dto = self.dtos(req).ip_addr(group_id, addr)
        return Reply(201, dto, location=dto["uri"])

    def get_ip_addr(self, req: Request) -> Reply:
        group = self.topo.get("ipAddrGroup", _uuid(req.params["id"], "ipAddrGroup"))
        _ip_version(req)
        addr = req.params["addr"]
        if addr not in group["addresses"]:
            raise errors.NotFound("address", addr)
        return Reply(body=self.dtos(req).ip_addr(group["id"], addr))

    def remove_ip_addr(self, req: Request) -> Reply:
        _ip_version(req)
        self.topo.remove_ip_addr(_uuid(req.params["id"], "ipAddrGroup"), req.params["addr"])
        return Reply(204)

    # -- tenants and system state ----------------------------------------------------------
    def list_tenants(self, req: Request) -> Reply:
        dtos = self.dtos(req)
        return Reply(body=[dtos.tenant(t) for t in self.topo.tenants()])

    def get_tenant(self, req: Request) -> Reply:
        tenant = req.params["id"]
        if tenant not in self.topo.tenants():
            raise errors.NotFound("tenant", tenant)
        return Reply(body=self.dtos(req).tenant(tenant))

    def get_system_state(self, req: Request) -> Reply:
        return Reply(body=self.dtos(req).system_state(self.topo.system_state(),
                                                      store_status.information(self)))

    def put_system_state(self, req: Request) -> Reply:
        state = self.topo.set_system_state(req.body)
        return Reply(body=self.dtos(req).system_state(state, store_status.information(self)))


def _uuid(value: str, kind: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise errors.NotFound(kind, value) from None


def _ip_version(req: Request) -> None:
    version, addr = req.params["version"], req.params["addr"]
    if version not in ("4", "6"):
        raise errors.InvalidInput("version", f"invalid IP version: {version}")
    if (":" in addr) != (version == "6"):
        raise errors.NotFound("address", addr)


def _body(req: Request) -> Obj:
    if not isinstance(req.body, dict):
        raise errors.InvalidInput("body", "the request body must be a JSON object")
    return req.body


def _camel(path: str) -> str:
    head, *rest = path.split("_")
    return head + "".join(p.title() for p in rest)
