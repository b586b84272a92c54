"""``fptsms-dlr-receiver``: the FPT delivery-report webhook as a standalone server.

The key FPT sends (``Authorization: Basic <KEY>``) comes from ``$FPTSMS_DLR_KEY`` or
``--key-file``, never from a flag value (it would show in ``ps``).  Reports land in ``--db``
(default ``$FPTSMS_DLR_DB`` or ``sqlite:///$AIRFLOW_HOME/fptsms/dlr.db``), where
``FptDeliverySensor`` reads them.  Inside Airflow's API server, the plugin serves the same app at
``/fptsms/dlr`` instead.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from airflow_provider_fptsms._listen import bind
from airflow_provider_fptsms._listen import url_of as base_url

KEY_ENV = "FPTSMS_DLR_KEY"
READY = "fptsms-dlr-receiver listening on {url}"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fptsms-dlr-receiver",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # "--key SECRET" must not be taken for --key-file (nor the key show in ps)
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument("--path", default="/dlr", help="URL path FPT posts to (default /dlr)")
    p.add_argument("--db", default=None, help="SQLAlchemy URL of the report store")
    p.add_argument("--key-file", type=Path, default=None, help=f"file holding the key (else ${KEY_ENV})")
    p.add_argument("--max-body", type=int, default=64 * 1024, help="largest accepted body in bytes")
    p.add_argument("--access-log", action="store_true", help="log each request (never headers or bodies)")
    return p


def read_key(key_file: Path | None) -> str:
    """The key from the file, else from the environment; a clear error when there is none."""
    if key_file is not None:
        key = key_file.read_text(encoding="utf-8").strip()
        if not key:
            raise ValueError(f"key file {key_file} is empty")
        return key
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        raise ValueError(f"no key: set ${KEY_ENV} or pass --key-file (the string you gave FPT)")
    return key


def url_of(sock: socket.socket, path: str) -> str:
    return base_url(sock) + "/" + path.lstrip("/")


def _refuse(problem: str) -> int:
    print(f"fptsms-dlr-receiver: {problem}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        key = read_key(args.key_file)
    except (OSError, ValueError) as exc:
        return _refuse(str(exc))
    import uvicorn

    from airflow_provider_fptsms.webhook.app import create_dlr_app
    from airflow_provider_fptsms.webhook.store import DlrStore

    try:
        store = DlrStore(args.db)
        store.summary([])  # creates the table now: a bad database fails at start, not at FPT's first call
    except ImportError as exc:
        return _refuse(f"the database driver for --db is not installed ({exc.name})")
    except Exception as exc:  # parse errors quote the URL, password included: name the type only
        return _refuse(f"--db is not a usable database URL ({type(exc).__name__})")
    try:
        app = create_dlr_app(store, key, path=args.path, max_body=args.max_body)
        sock = bind(args.host, args.port)
    except (OSError, ValueError) as exc:
        return _refuse(str(exc))
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="info" if args.access_log else "warning",
            access_log=args.access_log,
            lifespan="off",
            timeout_keep_alive=30,
        )
    )
    print(READY.format(url=url_of(sock, args.path)), flush=True)
    print(f"fptsms-dlr-receiver storing reports in {store!r}", flush=True)
    server.run(sockets=[sock])
    store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
