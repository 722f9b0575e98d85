"""midonet-cli: the tokenizer, the verb table and the value codecs (no network)."""

from __future__ import annotations

import pytest

from ryu_midonet.cli import values as v
from ryu_midonet.cli.errors import CliError
from ryu_midonet.cli.tokens import tokenize, verb_of


def test_tokenize_quoted_names_and_bang() -> None:
    assert tokenize('chain create name "drop_not_src_mynetwork_INBOUND"') == [
        "chain", "create", "name", "drop_not_src_mynetwork_INBOUND"]
    assert tokenize("router create name 'Edge Router'") == ["router", "create", "name",
                                                            "Edge Router"]
    assert tokenize("chain chain5 add rule ethertype 2048 src !10.0.0.0/16 type drop")[7] == \
        "!10.0.0.0/16"
    assert tokenize("rule target 198.51.100.2:1--1 in-ports router0:port0") == [
        "rule", "target", "198.51.100.2:1--1", "in-ports", "router0:port0"]
    assert tokenize("name a#b") == ["name", "a#b"]
    assert tokenize("   ") == []


def test_tokenize_unbalanced_quote_is_a_clear_error() -> None:
    with pytest.raises(CliError, match="syntax error"):
        tokenize('chain create name "oops')


@pytest.mark.parametrize("word, verb", [
    ("list", "list"), ("l", "list"), ("lis", "list"), ("show", "show"), ("s", "show"),
    ("sh", "show"), ("del", "delete"), ("delete", "delete"), ("desc", "describe"),
    ("add", "create"), ("create", "create"), ("set", "set"), ("clear", "clear"),
    ("de", None), ("cre", None), ("se", None), ("lists", None), ("router0", None),
])
def test_verbs_and_their_abbreviations(word: str, verb: str | None) -> None:
    assert verb_of(word) == verb


def test_cidr_parse_and_print() -> None:
    assert v.parse_cidr("src", "10.0.0.0/16") == ("10.0.0.0", 16)
    assert v.parse_cidr("dst", "198.51.100.3") == ("198.51.100.3", 32)
    assert v.parse_cidr("dst", "2001:db8::/64") == ("2001:db8::", 64)
    assert v.fmt_cidr("198.51.100.3", 32) == "198.51.100.3"
    assert v.fmt_cidr("0.0.0.0", 0) == "0.0.0.0/0"
    assert v.fmt_cidr("169.254.255.0", 30) == "169.254.255.0/30"
    assert v.fmt_cidr("2001:db8::1", 128) == "2001:db8::1"
    assert v.fmt_cidr(None, None) is None
    with pytest.raises(CliError, match="src: '10.0.0.0/33' is not between 0 and 32|src"):
        v.parse_cidr("src", "10.0.0.0/33")
    with pytest.raises(CliError, match="not an IP address"):
        v.parse_cidr("src", "10.0.0/16")


def test_inversion_prefix() -> None:
    assert v.split_inverted("!10.0.0.0/16") == (True, "10.0.0.0/16")
    assert v.split_inverted("2054") == (False, "2054")


def test_nat_target_forms() -> None:
    assert v.parse_nat_targets("target", "10.100.1.150") == [
        {"addressFrom": "10.100.1.150", "addressTo": "10.100.1.150", "portFrom": 0, "portTo": 0}]
    assert v.parse_nat_targets("target", "200.200.200.11:10000-60000") == [
        {"addressFrom": "200.200.200.11", "addressTo": "200.200.200.11", "portFrom": 10000,
         "portTo": 60000}]
    assert v.parse_nat_targets("target", "192.168.1.1-192.168.1.254:80") == [
        {"addressFrom": "192.168.1.1", "addressTo": "192.168.1.254", "portFrom": 80,
         "portTo": 80}]
    two = v.parse_nat_targets("target", "1.1.1.1:80-88,2.2.2.2")
    assert [t["addressFrom"] for t in two] == ["1.1.1.1", "2.2.2.2"]


def test_nat_target_port_65535_reads_and_prints_as_minus_one() -> None:
    targets = v.parse_nat_targets("target", "198.51.100.2:1--1")
    assert targets == [{"addressFrom": "198.51.100.2", "addressTo": "198.51.100.2",
                        "portFrom": 1, "portTo": 65535}]
    assert v.fmt_nat_targets(targets) == "198.51.100.2:1--1"
    assert v.fmt_nat_targets([{"addressFrom": "198.51.100.2", "addressTo": "198.51.100.2",
                               "portFrom": 1, "portTo": 65535}]) == "198.51.100.2:1--1"


@pytest.mark.parametrize("text", [
    "10.100.1.150", "200.200.200.11:10000-60000", "192.168.1.1-192.168.1.254",
    "192.168.1.1:80", "192.168.1.1-192.168.1.254:80-88", "1.1.1.1:80-88,2.2.2.2"])
def test_nat_targets_round_trip(text: str) -> None:
    assert v.fmt_nat_targets(v.parse_nat_targets("target", text)) == text


@pytest.mark.parametrize("bad", ["", "10.0.0.300", "1.1.1.1:x", "1.1.1.2-1.1.1.1",
                                 "1.1.1.1:90-80", "1.1.1.1:70000"])
def test_nat_target_errors_name_the_attribute(bad: str) -> None:
    with pytest.raises(CliError, match="^target: "):
        v.parse_nat_targets("target", bad)


def test_port_ranges() -> None:
    assert v.parse_port_range("dst-port", "80") == {"start": 80, "end": 80}
    assert v.parse_port_range("dst-port", "1024-65535") == {"start": 1024, "end": 65535}
    assert v.fmt_port_range({"start": 80, "end": 80}) == "80"
    assert v.fmt_port_range({"start": 500, "end": 1000}) == "500-1000"
    assert v.fmt_port_range(None) is None
    for bad in ("80-70", "x", "70000", "-5"):
        with pytest.raises(CliError, match="dst-port"):
            v.parse_port_range("dst-port", bad)


def test_ethertype_prints_as_signed_short() -> None:
    assert v.fmt_signed16(2048) == 2048
    assert v.fmt_signed16(0x86DD) == -31011
    assert v.fmt_signed16(-31011) == -31011


def test_small_codecs() -> None:
    assert v.fmt_str_list([]) == "[]"
    assert v.fmt_str_list(["127.0.0.1", "::1"]) == "['127.0.0.1', '::1']"
    assert v.parse_bool("stateful", "true") is True
    assert v.parse_bool("no-vlan", "false") is False
    with pytest.raises(CliError, match="stateful: 'maybe' is not true or false"):
        v.parse_bool("stateful", "maybe")
    assert v.parse_mac("hw-src", "FA:16:3E:FB:19:07") == "fa:16:3e:fb:19:07"
    assert v.parse_mac_mask("hw-src-mask", "FFFF.ff00.0000") == "ffff.ff00.0000"
    with pytest.raises(CliError, match="hw-src-mask"):
        v.parse_mac_mask("hw-src-mask", "ffff.ffff")
    assert v.parse_int("pos", "2", 1) == 2
    with pytest.raises(CliError, match="pos: 'two' is not an integer"):
        v.parse_int("pos", "two")
    assert v.is_uuid("5e58531f-8b81-4121-a364-07d137eb257e")
    assert not v.is_uuid("router0")
