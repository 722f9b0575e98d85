"""``ryu-midonet-manager``: start os-ken applications, the way ``ryu-manager`` does.

Usage::

    ryu-midonet-manager [--config-file F] [--ofp-tcp-listen-port P]
                        [--wsapi-host H] [--wsapi-port P] [--redis-url U]
                        [--verbose] [app module ...]

With no application module the OpenFlow handler (``os_ken.controller.ofp_handler``)
runs alone. SIGTERM and SIGINT stop every application cleanly and the process exits 0.
Without ``--config-file`` oslo.config reads ``ryu-midonet.conf`` from the first of
``~/.ryu-midonet/``, ``~/``, ``/etc/ryu-midonet/`` and ``/etc/`` that has one.

os-ken chooses its threading model from the ``OSKEN_HUB_TYPE`` environment variable
when ``os_ken.lib.hub`` is first imported. This launcher runs on native threads (os-ken's
own default, and what the Redis and OVSDB client libraries expect) unless that variable is
already set, e.g. to ``eventlet``.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("OSKEN_HUB_TYPE", "native")
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)

# Green the standard library before anything else opens sockets or creates locks.
from os_ken.lib import hub

hub.patch(thread=True)

import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from os_ken import cfg, log

log.early_init_log(logging.DEBUG)

# app_manager must come before controller (os-ken has a circular import between them);
# importing controller registers the --ofp-* options before the command line is parsed.
from os_ken.base.app_manager import AppManager
from os_ken.controller import controller  # noqa: F401

from ryu_midonet import __version__
from ryu_midonet import config as midonet_config

LOG = logging.getLogger("ryu_midonet.cmd.manager")

CONF = cfg.CONF
DEFAULT_APPS = ["os_ken.controller.ofp_handler"]
# How often the main thread checks for a stop request or for finished applications.
_POLL_INTERVAL = 0.2

_MANAGER_CLI_OPTS = [
    cfg.ListOpt("app-lists", default=[], help="Application modules to run (comma separated)."),
    cfg.MultiStrOpt("app", positional=True, default=[], help="Application modules to run."),
    cfg.StrOpt("pid-file", default=None, help="Write the process id to this file."),
]


def _register_cli_opts() -> None:
    """Register the launcher's own options and ryu-midonet's (idempotent)."""
    for opt in _MANAGER_CLI_OPTS:
        if opt.dest not in CONF:
            CONF.register_cli_opt(opt)
    midonet_config.register_opts(CONF)


_register_cli_opts()


class _StopRequest:
    """Records the first stop signal; a second one ends the process at once."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            # Already stopping and asked again: give up on a clean close.
            os._exit(128 + signum)
        self.signum = signum

    @property
    def requested(self) -> bool:
        return self.signum is not None


def _is_alive(thread: Any) -> bool:
    """Whether a thread returned by ``hub.spawn`` is still running (either hub type)."""
    dead = getattr(thread, "dead", None)
    if dead is not None:
        return not dead
    return bool(thread.is_alive())


def _wait(services: Sequence[Any], stop: _StopRequest) -> None:
    """Block until every service thread has ended or a stop signal arrived."""
    while not stop.requested and any(_is_alive(t) for t in services):
        hub.sleep(_POLL_INTERVAL)


def _parse_args(args: Sequence[str] | None, prog: str | None) -> None:
    CONF(
        args=list(args) if args is not None else None,
        prog=prog,
        project="ryu-midonet",
        version=f"ryu-midonet-manager {__version__}",
    )


def _exit_native_threads(code: int) -> None:
    """End the process when os-ken's native threads cannot be stopped.

    With ``OSKEN_HUB_TYPE=native`` ``hub.kill`` does nothing, so server loops (the
    OpenFlow listener, for one) keep running after their applications were closed
    and would keep the interpreter from exiting.
    """
    if hub.HUB_TYPE != "native":
        return
    current = threading.current_thread()
    left = [t for t in threading.enumerate() if t is not current and not t.daemon]
    if left:
        LOG.debug("leaving %d native threads behind", len(left))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(args: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the launcher; ``args`` defaults to ``sys.argv[1:]``. Returns the exit code."""
    try:
        _parse_args(args, prog)
    except cfg.ConfigFilesNotFoundError as exc:
        print(f"ryu-midonet-manager: {exc}", file=sys.stderr)
        return 2

    log.init_log()

    stop = _StopRequest()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if CONF.pid_file:
        with open(CONF.pid_file, "w", encoding="ascii") as pid_file:
            pid_file.write(f"{os.getpid()}\n")

    app_lists = list(CONF.app_lists) + list(CONF.app) or list(DEFAULT_APPS)
    app_mgr = AppManager.get_instance()
    code = 0
    try:
        app_mgr.load_apps(app_lists)
        contexts = app_mgr.create_contexts()
        services = app_mgr.instantiate_apps(**contexts)
        if not services:
            LOG.info("no application runs a service thread; nothing to wait for")
        _wait(services, stop)
        if stop.requested:
            LOG.info("received signal %d, stopping", stop.signum)
    except ImportError as exc:
        LOG.error("cannot load application: %s", exc)
        code = 1
    finally:
        app_mgr.close()
        if CONF.pid_file:
            try:
                os.unlink(CONF.pid_file)
            except FileNotFoundError:
                pass
    _exit_native_threads(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
