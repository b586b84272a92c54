"""``fptsms-sandbox``: serve both simulated gateways on one localhost port.

Every flag can also come from the environment as ``FPTSMS_SANDBOX_<FLAG>`` (``--dlr-delay`` ->
``FPTSMS_SANDBOX_DLR_DELAY``), and most can be changed at run time through ``/_sandbox/...``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from airflow_provider_fptsms.gateways.fibo import redact_url
from airflow_provider_fptsms.sandbox.config import (
    DEDUPE_MODES,
    FIBO_BALANCE_STYLES,
    FiboAccount,
    FptClient,
    SandboxConfig,
)
from airflow_provider_fptsms.sandbox.error_texts import ERROR_TEXT_STYLES
from airflow_provider_fptsms.sandbox.faults import FaultPlan

ENV_PREFIX = "FPTSMS_SANDBOX_"


def _env(name: str, default: Any) -> Any:
    return os.environ.get(ENV_PREFIX + name.upper().replace("-", "_"), default)


def _fpt_client(text: str) -> FptClient:
    parts = text.split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError("use CLIENT_ID:SECRET[:BRAND1,BRAND2]")
    client = FptClient(parts[0], parts[1])
    if len(parts) > 2 and parts[2]:
        client.brandnames = tuple(parts[2].split(","))
    return client


def _fibo_account(text: str) -> FiboAccount:
    parts = text.split(":")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError("use CLIENT_NO:PASSWORD[:SENDER1,SENDER2[:BALANCE[:NAME]]]")
    account = FiboAccount(parts[0], parts[1])
    if len(parts) > 2 and parts[2]:
        account.sender_names = tuple(parts[2].split(","))
    if len(parts) > 3 and parts[3]:
        account.balance = Decimal(parts[3])
    if len(parts) > 4 and parts[4]:
        account.name = ":".join(parts[4:])
    return account


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fptsms-sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--host", default=_env("host", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(_env("port", 8765)), help="0 picks a free port")
    p.add_argument(
        "--extra-ports",
        type=int,
        default=int(_env("extra_ports", 0)),
        help="open N more ports on the same state (a second 'host' for failover)",
    )
    p.add_argument("--config", default=_env("config", None), help="JSON file with settings and a 'faults' object")
    p.add_argument(
        "--fpt-client",
        action="append",
        type=_fpt_client,
        default=[],
        help="CLIENT_ID:SECRET[:BRANDS] (repeatable; default sandbox-client:sandbox-secret)",
    )
    p.add_argument(
        "--fibo-account",
        action="append",
        type=_fibo_account,
        default=[],
        help="CLIENT_NO:PASSWORD[:SENDERS[:BALANCE[:NAME]]] (repeatable; default CL0000000001:sandbox-pass; "
        "NAME is what CheckClient answers)",
    )
    timing = p.add_argument_group("lifecycle")
    timing.add_argument(
        "--approval-delay",
        type=float,
        default=float(_env("approval_delay", 5.0)),
        help="seconds from create-campaign to approval/rejection (default 5)",
    )
    timing.add_argument(
        "--send-delay",
        type=float,
        default=_env("send_delay", None),
        help="count a campaign sent this many seconds after approval instead of at ScheduleTime",
    )
    timing.add_argument(
        "--dlr-delay",
        type=float,
        default=float(_env("dlr_delay", 5.0)),
        help="seconds from sending to final delivery reports (default 5)",
    )
    timing.add_argument("--dlr-failure-rate", type=float, default=float(_env("dlr_failure_rate", 0.05)))
    timing.add_argument(
        "--blocked-word",
        action="append",
        default=None,
        help="content that makes a campaign rejected / a CSKH send fail with 6 (repeatable)",
    )
    timing.add_argument(
        "--no-enforce-windows",
        action="store_true",
        default=_env("no_enforce_windows", "") not in ("", "0", "false"),
        help="accept any ScheduleTime (not only 08:00-11:30 / 13:30-20:00, future)",
    )
    timing.add_argument(
        "--dedupe",
        choices=DEDUPE_MODES,
        default=_env("dedupe", None),
        help="FPT's 2501 rule: 'content' (default, the manual: same phone + text within 5 minutes) or "
        "'request-id' (also a RequestId reused within the window); Fibo is always content-only",
    )
    timing.add_argument("--fibo-reply-style", choices=("escaped", "bare"), default=_env("fibo_reply_style", "escaped"))
    timing.add_argument(
        "--fibo-balance-style",
        choices=FIBO_BALANCE_STYLES,
        default=_env("fibo_balance_style", None),
        help="GetClientBalance's reply: 'seed' (default, <SMS><Code>200</Code><AccountBalance>...) or 'v2' "
        "(the v2.0 guide's bare <string>529</string>)",
    )
    timing.add_argument(
        "--error-texts",
        choices=ERROR_TEXT_STYLES,
        default=_env("error_texts", None),
        help="FPT's error_description texts: 'manual' (default, the manual's error table and samples) or 'vi' "
        "(Vietnamese production-style texts, e.g. 1005 'Scope không hợp lệ cho request này.')",
    )
    timing.add_argument(
        "--strict-session-id",
        action="store_true",
        default=_env("strict_session_id", "") not in ("", "0", "false"),
        help="refuse an FPT session_id over 32 characters (the manual's table) although the manual's own "
        "43-character sample is shown succeeding (the default follows the sample)",
    )
    dlr = p.add_argument_group("CSKH delivery-report callbacks (FPT's webhook)")
    dlr.add_argument(
        "--dlr-url",
        default=_env("dlr_url", None),
        help="POST a final DLR here dlr-delay seconds after each accepted CSKH send (e.g. a fptsms-dlr-receiver)",
    )
    dlr.add_argument(
        "--dlr-key-env",
        default=_env("dlr_key_env", "FPTSMS_DLR_KEY"),
        help="environment variable holding the webhook key sent as 'Authorization: Basic KEY' (default FPTSMS_DLR_KEY)",
    )
    faults = p.add_argument_group("fault plan")
    faults.add_argument("--latency-ms", type=float, default=float(_env("latency_ms", 0)))
    faults.add_argument("--error-5xx-rate", type=float, default=float(_env("error_5xx_rate", 0)))
    faults.add_argument("--drop-rate", type=float, default=float(_env("drop_rate", 0)))
    faults.add_argument("--lost-reply-rate", type=float, default=float(_env("lost_reply_rate", 0)))
    faults.add_argument("--token-invalidate-every", type=int, default=int(_env("token_invalidate_every", 0)))
    faults.add_argument("--seed", type=int, default=_env("seed", None))
    p.add_argument("--access-log", action="store_true", help="log each request (passwords in URLs are masked)")
    p.add_argument(
        "--print-env",
        action="store_true",
        help='print the AIRFLOW_CONN_* export lines for --host/--port and exit (for scripts: eval "$(...)")',
    )
    return p


def export_lines(url: str, config: SandboxConfig) -> list[str]:
    """Ready-to-paste ``export AIRFLOW_CONN_*`` lines for the sandbox's first FPT and Fibo accounts.

    The built-in demo accounts are printed as they are (they are public); an account of your own
    (``--fpt-client`` / ``--fibo-account``) shows its secret as a placeholder to fill in.
    """
    from airflow_provider_fptsms.sandbox.config import (
        DEFAULT_FIBO_CLIENT_PASS,
        DEFAULT_FPT_CLIENT_SECRET,
    )
    from airflow_provider_fptsms.sandbox.server import fibo_connection, fpt_connection

    client, account = config.fpt_clients[0], config.fibo_accounts[0]
    fpt_conn = fpt_connection(url, brandname=client.brandnames[-1] if client.brandnames else "")
    fpt_conn["login"] = client.client_id
    fpt_conn["password"] = (
        client.client_secret if client.client_secret == DEFAULT_FPT_CLIENT_SECRET else "<client_secret>"
    )
    fibo_conn = fibo_connection(url, sender_name=account.sender_names[-1] if account.sender_names else "")
    fibo_conn["login"] = account.client_no
    fibo_conn["password"] = account.client_pass if account.client_pass == DEFAULT_FIBO_CLIENT_PASS else "<clientPass>"
    return [
        f"export AIRFLOW_CONN_FPTSMS_DEFAULT='{json.dumps(fpt_conn)}'",
        f"export AIRFLOW_CONN_FIBOSMS_DEFAULT='{json.dumps(fibo_conn)}'",
    ]


def build(args: argparse.Namespace) -> tuple[SandboxConfig, FaultPlan]:
    file_settings: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as handle:
            file_settings = json.load(handle)
    fault_settings = file_settings.pop("faults", {})
    config = SandboxConfig()
    if args.fpt_client:
        config.fpt_clients = args.fpt_client
    if args.fibo_account:
        config.fibo_accounts = args.fibo_account
    config.update(file_settings)
    config.approval_delay = args.approval_delay
    config.send_delay = None if args.send_delay in (None, "") else float(args.send_delay)
    config.dlr_delay = args.dlr_delay
    config.dlr_failure_rate = args.dlr_failure_rate
    config.fibo_reply_style = args.fibo_reply_style
    if args.dedupe:  # validated here too: argparse does not check a default taken from the environment
        config.update({"dedupe": args.dedupe})
    if args.error_texts:
        config.update({"error_texts": args.error_texts})
    if args.fibo_balance_style:
        config.update({"fibo_balance_style": args.fibo_balance_style})
    if args.strict_session_id:
        config.strict_session_id = True
    if args.blocked_word:
        config.blocked_words = tuple(args.blocked_word)
    if args.no_enforce_windows:
        config.enforce_windows = False
    if args.dlr_url:
        key = os.environ.get(args.dlr_key_env, "")
        if not key:
            raise ValueError(f"--dlr-url needs a key: set ${args.dlr_key_env} (or choose the variable: --dlr-key-env)")
        config.update({"dlr_url": args.dlr_url, "dlr_key": key})
    plan = FaultPlan.from_dict(
        {
            "latency_ms": args.latency_ms,
            "error_5xx_rate": args.error_5xx_rate,
            "drop_rate": args.drop_rate,
            "lost_reply_rate": args.lost_reply_rate,
            "token_invalidate_every": args.token_invalidate_every,
            "seed": None if args.seed in (None, "") else int(args.seed),
            **fault_settings,
        }
    )
    return config, plan


class RedactPasswords(logging.Filter):
    """Fibo puts clientPass in the query string: mask it in every access-log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact_url(str(record.msg))
        return True


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config, plan = build(args)
    except (OSError, ValueError, TypeError) as exc:
        print(f"fptsms-sandbox: {exc}", file=sys.stderr)
        return 2

    if args.print_env:
        if not args.port:
            print("fptsms-sandbox: --print-env needs a fixed --port (0 picks one only when serving)", file=sys.stderr)
            return 2
        print("\n".join(export_lines(f"http://{args.host}:{args.port}", config)))
        return 0

    import uvicorn

    from airflow_provider_fptsms._listen import bind, url_of
    from airflow_provider_fptsms.sandbox.app import Sandbox, create_app

    sockets = [bind(args.host, args.port)] + [bind(args.host, 0) for _ in range(args.extra_ports)]
    logging.getLogger("uvicorn.access").addFilter(RedactPasswords())
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(Sandbox(config, plan)),
            log_level="info" if args.access_log else "warning",
            access_log=args.access_log,
            lifespan="off",
            timeout_keep_alive=30,
        )
    )
    for sock in sockets:
        print(f"fptsms-sandbox listening on {url_of(sock)}", flush=True)
    print(
        "\nConnections for Airflow: paste these into the shell that runs Airflow (or your tests):\n"
        + "\n".join(export_lines(url_of(sockets[0]), config))
        + "\n",
        flush=True,
    )
    server.run(sockets=sockets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
