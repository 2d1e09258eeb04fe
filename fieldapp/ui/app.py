"""Start the tablet app: options, fonts and theme, first login, then the main window.

    python -m fieldapp.ui --server http://127.0.0.1:8765 --user tech01 --password fieldapp
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from fieldapp.errors import FieldAppError
from fieldapp.replica import Replica, integrity, wipe
from fieldapp.replica import settings as tablet_settings
from fieldapp.replica.store import DatabaseError
from fieldapp.ui import i18n, ops, theme
from fieldapp.ui.context import AppContext
from fieldapp.ui.dialogs.login_dialog import LoginDialog
from fieldapp.ui.dialogs.unlock_dialog import UnlockDialog
from fieldapp.ui.i18n import tr
from fieldapp.ui.i18n.messages import describe
from fieldapp.ui.main_window import MainWindow
from fieldapp.ui.sync_worker import SyncController

log = logging.getLogger("fieldapp.ui")

DEFAULT_SERVER = "http://127.0.0.1:8765"
WINDOW_SIZE = (1280, 800)


def default_data_dir() -> Path:
    """Where the replica lives: the platform's per-user application data folder."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "FieldApp"


def build_main_window(data_dir: Path | str, server_url: str | None = None, *,
                      language: str | None = None) -> MainWindow:
    """Open the replica and build the window; sync starts only with ``window.start()``.
    The server is ``server_url``, else the one saved in 设置, else the default."""
    data_dir = Path(data_dir)
    finish_wipe(data_dir)
    # Opened here, before any screen shows; from now on only the database worker uses it.
    ctx = AppContext(Replica.open(data_dir), data_dir, server_url or "")
    saved = ctx.call(tablet_settings.load)
    ctx.server_url = server_url or saved.server_url or DEFAULT_SERVER
    i18n.set_language(i18n.resolve_language(language, ctx.call(ops.setting,
                                                               key=ops.LANGUAGE_KEY)))
    app = QApplication.instance()
    if app is not None and saved.high_contrast != theme.HIGH_CONTRAST_ON:
        theme.apply(app, high_contrast=saved.high_contrast)
    window = MainWindow(ctx, SyncController(ctx))
    window.resize(*WINDOW_SIZE)
    window.reload()
    window.collector.start()
    return window


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fieldapp.ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=default_data_dir(),
                        help="folder of the local replica (default: %(default)s)")
    parser.add_argument("--server", help=f"sync server URL (default: the one saved in Settings,"
                        f" else {DEFAULT_SERVER})")
    parser.add_argument("--user", help="log in as this user on first start")
    parser.add_argument("--password", help="password for --user")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, help="zh (default) or en")
    parser.add_argument("--fullscreen", action="store_true", help="fill the tablet screen")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation on throwaway data, print the results,"
                        " exit 0 when all passed")
    return parser.parse_args(argv)


def _install_excepthook(window: MainWindow) -> None:
    """A bug in a slot shows a calm message and is logged, instead of killing the app."""

    def hook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
        log.error("unhandled error", exc_info=(kind, error, tb))
        if window.ctx.replica is not None:
            window.ctx.show_error(error)

    sys.excepthook = hook


def open_session(window: MainWindow, username: str | None, password: str | None) -> bool:
    """Online login on a new tablet; else the offline unlock (or an online login when the
    user asks, or when too many wrong passwords locked the app). False: the user gave up."""
    session = window.ctx.call(ops.session)
    if session is None:
        return first_login(window, username, password)
    if not window.ctx.call(ops.needs_unlock):
        return True  # logged in before offline unlock existed: set at the next login
    result = UnlockDialog(window.ctx, session).exec()
    if result == UnlockDialog.ONLINE:
        return first_login(window, session.username, None)
    return result == QDialog.DialogCode.Accepted


def first_login(window: MainWindow, username: str | None, password: str | None) -> bool:
    """Log in online when the tablet has no session yet; False if the user gave up."""
    dialog = LoginDialog(window.controller, None, username=username or "",
                         password=password or "")
    if username and password:
        QTimer.singleShot(0, dialog.submit)
    return dialog.exec() == QDialog.DialogCode.Accepted


def finish_wipe(data_dir: Path) -> None:
    """An erase cut short (power, a killed process) finishes before anything reads the data."""
    if wipe.pending(data_dir):
        left = wipe.erase(data_dir)
        log.warning("finished an interrupted remote wipe; not removed: %s", left or "nothing")


def check_data(data_dir: Path | str) -> str | None:
    """The start-up integrity check; when it finds a problem the unsent work is saved aside
    first, and the words for the user are returned (None: all is well)."""
    report = integrity.check(data_dir)
    if report.ok:
        return None
    folder = integrity.rescue(data_dir)
    log.error("integrity check failed: %s; unsent work saved in %s", report.problems, folder)
    said = [tr(f"integrity.{code}", detail=detail[:12] if code.startswith("file") else detail)
            for code, detail in report.problems[:5]]
    return tr("integrity.message", problems=tr("error.list_sep").join(said), n=report.unsent,
              folder=str(folder))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.self_test:
        from fieldapp.ui import self_test

        if sys.stdout is not None:
            return min(self_test.run(sys.stdout), 100)
        # The windowed Windows build has no console: the results go to a file instead.
        with open(Path(tempfile.gettempdir()) / "fieldapp-self-test.txt", "w",
                  encoding="utf-8") as out:
            return min(self_test.run(out), 100)
    app = QApplication(sys.argv[:1])
    app.setApplicationName("FieldApp")
    theme.apply(app)
    i18n.set_language(i18n.resolve_language(args.lang, None))
    finish_wipe(args.data)
    problem = check_data(args.data)  # before anything opens the data for writing
    if problem:
        QMessageBox.warning(None, tr("integrity.title"), problem)
    try:
        window = build_main_window(args.data, args.server, language=args.lang)
    except (*DatabaseError, FieldAppError) as exc:
        said = describe(exc) if isinstance(exc, FieldAppError) else str(exc)
        QMessageBox.critical(None, tr("integrity.title"), tr("integrity.unusable", error=said))
        return 2
    _install_excepthook(window)
    if not open_session(window, args.user, args.password):
        window.shutdown()
        return 1
    window.start()
    if args.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    return app.exec()
