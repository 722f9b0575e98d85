"""The ryu-midonet configuration options: names, defaults, sources and precedence."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from os_ken import cfg as osken_cfg
from oslo_config import cfg

from ryu_midonet import config


@pytest.fixture
def conf() -> cfg.ConfigOpts:
    """A private ConfigOpts with the ryu-midonet options, so tests never share state."""
    opts = cfg.ConfigOpts()
    config.register_opts(opts)
    return opts


def parse(conf: cfg.ConfigOpts, *args: str) -> cfg.ConfigOpts:
    conf(args=list(args), project="ryu-midonet", default_config_files=[])
    return conf


def test_defaults(conf: cfg.ConfigOpts) -> None:
    parse(conf)
    assert conf.redis_url == "redis://127.0.0.1:6379/0"
    assert conf.wsapi_host == "127.0.0.1"
    assert conf.wsapi_port == 8181
    assert conf.nsdb_prefix == "mn"


def test_registered_on_the_conf_os_ken_uses() -> None:
    assert config.CONF is osken_cfg.CONF
    for name in ("redis_url", "wsapi_host", "wsapi_port", "nsdb_prefix"):
        assert name in osken_cfg.CONF


def test_register_opts_is_idempotent(conf: cfg.ConfigOpts) -> None:
    config.register_opts(conf)
    parse(conf, "--wsapi-port", "9000")
    # Also harmless once the command line has been parsed.
    config.register_opts(conf)
    assert conf.wsapi_port == 9000


def test_cli_names(conf: cfg.ConfigOpts) -> None:
    parse(
        conf,
        "--redis-url", "redis://10.0.0.5:6380/3",
        "--wsapi-host", "0.0.0.0",
        "--wsapi-port", "9090",
    )  # fmt: skip
    assert conf.redis_url == "redis://10.0.0.5:6380/3"
    assert conf.wsapi_host == "0.0.0.0"
    assert conf.wsapi_port == 9090


def test_nsdb_prefix_is_not_a_cli_option(conf: cfg.ConfigOpts) -> None:
    with pytest.raises(SystemExit):
        parse(conf, "--nsdb-prefix", "other")


def test_wsapi_port_is_validated(conf: cfg.ConfigOpts) -> None:
    with pytest.raises(SystemExit):
        parse(conf, "--wsapi-port", "70000")


def test_config_file_and_cli_precedence(conf: cfg.ConfigOpts, tmp_path: Path) -> None:
    conf_file = tmp_path / "ryu-midonet.conf"
    conf_file.write_text(
        "\n".join(
            [
                "[DEFAULT]",
                "redis_url = redis://192.0.2.1:7000/1",
                "wsapi_port = 8282",
                "nsdb_prefix = site-a",
                "",
            ]
        )
    )
    parse(conf, "--config-file", str(conf_file))
    assert conf.redis_url == "redis://192.0.2.1:7000/1"
    assert conf.wsapi_port == 8282
    assert conf.nsdb_prefix == "site-a"

    conf.clear()
    parse(conf, "--config-file", str(conf_file), "--redis-url", "redis://127.0.0.1:7001/2")
    assert conf.redis_url == "redis://127.0.0.1:7001/2"
    assert conf.wsapi_port == 8282


def test_list_opts_for_the_sample_generator() -> None:
    groups = config.list_opts()
    assert [group for group, _ in groups] == [None]
    names = {opt.dest for opt in groups[0][1]}
    assert names == {"redis_url", "wsapi_host", "wsapi_port", "nsdb_prefix", "host_id_file",
                     "host_name", "ovsdb_connection", "integration_bridge", "vxlan_udp_port",
                     "flow_idle_timeout", "host_alive_ttl_ms", "store_divergence_grace",
                     "check_flow_contracts", "auth_strategy", "auth_token_ttl",
                     "wsapi_public_url", "wsapi_threads", "wsapi_backlog", "wsapi_client_timeout",
                     "wsapi_max_body_bytes", "wsapi_max_connections",
                     "proactive_flows", "proactive_max_flows_per_port", "miss_rate_per_port",
                         "miss_burst_per_port", "miss_queue_per_port", "miss_max_wait",
                     "nat_in_datapath", "nat_datapath_block_bits",
                     "conntrack_in_datapath", "conntrack_copies_tcp_liberal",
                     "conntrack_copies_tcp_timeout", "bgp_netns_prefix", "bgp_run_dir",
                     "health_monitor_netns_prefix"}
    assert all(opt.help for opt in groups[0][1])


def test_generator_entry_point() -> None:
    (ep,) = [ep for ep in entry_points(group="oslo.config.opts") if ep.name == "ryu_midonet"]
    assert ep.load() is config.list_opts


def test_sample_file_lists_every_option() -> None:
    sample = Path(__file__).resolve().parents[2] / "etc" / "ryu-midonet.conf.sample"
    text = sample.read_text()
    for line in (
        "#redis_url = redis://127.0.0.1:6379/0",
        "#wsapi_host = 127.0.0.1",
        "#wsapi_port = 8181",
        "#nsdb_prefix = mn",
    ):
        assert line in text


def test_auth_options(conf: cfg.ConfigOpts) -> None:
    parse(conf)
    assert (conf.auth_strategy, conf.auth_token_ttl) == ("builtin", 3600)
    parse(conf, "--auth-strategy", "noauth", "--auth-token-ttl", "60")
    assert (conf.auth_strategy, conf.auth_token_ttl) == ("noauth", 60)
    for args in (("--auth-strategy", "keystone"), ("--auth-token-ttl", "0")):
        fresh = cfg.ConfigOpts()
        config.register_opts(fresh)
        with pytest.raises(SystemExit):
            parse(fresh, *args)
