"""Standing FieldApp up for a utility: ``python -m sync_server init``.

    python -m sync_server init --data /srv/fieldapp --utility-name "某某燃气有限公司" \\
        --district 秦淮区 --district 鼓楼区 --admin admin --admin-name "系统管理员"

creates the first administrator (the password is asked for twice, or read from
``--admin-password-file`` or ``$FIELDAPP_ADMIN_PASSWORD`` for automation; never echoed,
printed or logged), publishes the utility's name and its districts, and publishes the forms
FieldApp ships (product content, not demo data). It runs once: on a data directory that is
already set up it changes nothing and says so. A server started on a directory that is not
set up (and not ``--demo``) refuses to serve an empty office and says what to run.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fieldapp.reports.report_data import UTILITY_SETTING
from sync_server.services import audit, auth
from sync_server.services.records import publish_setting, seed_forms
from sync_server.storage import server_state
from sync_server.storage.db import DATABASE_URL_ENV, Connection, open_database

PASSWORD_ENV = "FIELDAPP_ADMIN_PASSWORD"
DISTRICTS_SETTING = "districts"  # a JSON list, published like the utility's name
INITIALISED = "installation.initialised_at"
MIN_PASSWORD = auth.MIN_PASSWORD
MAX_NAME = 100


class SetupRefused(Exception):
    """What is wrong with the set-up as asked, in the operator's words; nothing was written."""


@dataclass(frozen=True)
class Installation:
    utility_name: str
    districts: tuple[str, ...]
    admin: str
    admin_name: str
    password: str

    def problems(self) -> list[str]:
        found = []
        if not self.utility_name.strip():
            found.append("请给出燃气公司名称（--utility-name）")
        elif len(self.utility_name) > MAX_NAME:
            found.append(f"燃气公司名称最多 {MAX_NAME} 个字")
        if not self.districts:
            found.append("请至少给出一个营业区域（--district，可重复）")
        if any(not d.strip() or len(d) > MAX_NAME for d in self.districts):
            found.append("营业区域名称不能为空，最多 100 个字")
        if len(set(self.districts)) != len(self.districts):
            found.append("营业区域有重复")
        if not auth.USERNAME.fullmatch(self.admin):
            found.append("管理员账号应为 3–32 位小写字母、数字或下划线，以字母开头")
        if len(self.password) < MIN_PASSWORD:
            found.append(f"管理员密码至少 {MIN_PASSWORD} 位")
        return found


def is_initialised(conn: Connection) -> bool:
    """Set up by ``init``, or in use from before ``init`` existed (it has accounts)."""
    if server_state.read(conn, INITIALISED):
        return True
    return int(conn.execute("SELECT count(*) FROM users").fetchone()[0]) > 0


def initialise(conn: Connection, setup: Installation) -> None:
    """Write the installation in the caller's transaction; refuses (writing nothing) when the
    set-up is incomplete or the directory is already set up."""
    if problems := setup.problems():
        raise SetupRefused("；".join(problems))
    if is_initialised(conn):
        when = server_state.read(conn, INITIALISED) or "之前"
        raise SetupRefused(f"这个数据目录已经初始化过（{when}），没有做任何更改")
    name = setup.admin_name.strip() or setup.admin
    auth.add_user(conn, setup.admin, name, "admin", setup.password)
    audit.security_event(conn, "init", "user_created", setup.admin,
                         {"display_name": name, "role": "admin", "district": None})
    publish_setting(conn, UTILITY_SETTING, setup.utility_name.strip())
    publish_setting(conn, DISTRICTS_SETTING,
                    json.dumps([d.strip() for d in setup.districts], ensure_ascii=False))
    seed_forms(conn)
    server_state.write(conn, INITIALISED, datetime.now(UTC).isoformat(timespec="seconds"))


def published_districts(conn: Connection) -> list[str]:
    """The districts ``init`` published (empty on a server set up before it existed)."""
    row = conn.execute("SELECT value FROM org_settings WHERE id = ?",
                       [DISTRICTS_SETTING]).fetchone()
    try:
        names = json.loads(row[0]) if row and row[0] else []
    except ValueError:
        return []
    return [n for n in names if isinstance(n, str)]


def not_initialised_message(data: Path) -> str:
    return (f"数据目录 {data} 还没有初始化，办公室和同步接口都不会启动。先运行：\n"
            f"  python -m sync_server init --data {data} --utility-name 公司名称"
            f" --district 区域 --admin admin\n"
            "（试用演示数据请改用 --demo。）\n"
            f"The data directory {data} is not set up: run `python -m sync_server init"
            f" --data {data} ...` first (or start with --demo to try the demo data).")


# -- the command ------------------------------------------------------------------------------


def read_password(args: argparse.Namespace, ask: Callable[[str], str] = getpass.getpass,
                  env: Mapping[str, str] = os.environ) -> str:
    """From the file, else the environment, else asked twice on the terminal (not echoed)."""
    if args.admin_password_file:
        try:
            text = Path(args.admin_password_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SetupRefused(f"读不了密码文件 {args.admin_password_file}：{exc}") from exc
        return text.rstrip("\r\n")
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise SetupRefused(f"没有终端可以输入密码：请用 --admin-password-file 或 ${PASSWORD_ENV}")
    first = ask("管理员密码 / admin password: ")
    if ask("再输入一次 / again: ") != first:
        raise SetupRefused("两次输入的密码不一致")
    return first


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="sync_server init", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("var/server"))
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV) or None,
                        help=f"PostgreSQL (default ${DATABASE_URL_ENV}, else SQLite in --data)")
    parser.add_argument("--utility-name", required=True, help="printed on every document")
    parser.add_argument("--district", action="append", default=[], dest="districts",
                        help="a district (营业区域) the utility serves; repeat for each")
    parser.add_argument("--admin", default="admin", help="the first administrator's account")
    parser.add_argument("--admin-name", default="系统管理员", help="their name as shown")
    parser.add_argument("--admin-password-file",
                        help=f"read the password from this file (else ${PASSWORD_ENV},"
                        " else asked on the terminal)")
    args = parser.parse_args(argv)
    try:
        setup = Installation(args.utility_name, tuple(args.districts), args.admin,
                             args.admin_name, read_password(args))
        if problems := setup.problems():  # before a database is created for nothing
            raise SetupRefused("；".join(problems))
        args.data.mkdir(parents=True, exist_ok=True)
        db = open_database(args.data, args.database_url)
        try:
            with db.write() as conn:
                initialise(conn, setup)
        finally:
            db.close()
    except SetupRefused as exc:
        print(f"没有初始化：{exc}", file=sys.stderr)
        return 1
    print(f"已初始化 {args.data}：{setup.utility_name.strip()}，"
          f"{len(setup.districts)} 个营业区域，管理员 {setup.admin.strip()}，标准表单已发布。\n"
          f"启动：python -m sync_server --data {args.data}")
    return 0
