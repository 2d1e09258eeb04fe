"""Signals emitted and disconnected from Python without losing references to True and False.

This PySide6 (6.12) hands back the bool of ``SignalInstance.emit()`` and
``SignalInstance.disconnect()`` without the reference it owes, so every call from Python
takes one reference to True (or False) away. CPython 3.11 counts references to True like
any object's: after some thousands of emits (each background op delivers its result with
one; the camera emits every frame) it frees True itself and aborts, ``Fatal Python error:
bool_dealloc``. With fewer, the count reaches 0 while the interpreter shuts down and the
process aborts at exit.

``install()`` (run when fieldapp.ui is imported) checks once whether this binding drops
the reference and, only then, wraps both methods so that the reference is given back: our
code, Qt's own signals emitted from Python and pytest-qt's waits alike. A fixed PySide, or
a Python whose True is immortal (3.12 on), is left alone.
"""

from __future__ import annotations

import ctypes
import sys
import warnings
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 64  # calls per check: far more than another thread could move the count by
_installed = False


class _Probe(QObject):
    ping = Signal()


def _give_back(result: object) -> None:
    if result is True or result is False:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(result))


def _drops_a_reference(call: Callable[[], object]) -> bool:
    """Whether ``call`` (which returns True) takes a reference to True away each time; the
    references the check itself lost are given back."""
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        call()
    lost = before - sys.getrefcount(True)
    if lost < _PROBES // 2:
        return False
    for _ in range(_PROBES):
        _give_back(True)
    return True


def _repaired(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(self: SignalInstance, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        _give_back(result)
        return result

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


def install() -> list[str]:
    """Repair ``emit`` and ``disconnect`` if this binding needs it (once per process);
    returns the names of the methods repaired."""
    global _installed
    if _installed:
        return []
    _installed = True
    probe = _Probe()

    def connect_and_disconnect() -> object:
        probe.ping.connect(_nothing)
        return probe.ping.disconnect(_nothing)

    repaired = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _drops_a_reference(probe.ping.emit):
            repaired.append("emit")
        if _drops_a_reference(connect_and_disconnect):
            repaired.append("disconnect")
    for name in repaired:
        setattr(SignalInstance, name, _repaired(getattr(SignalInstance, name)))
    return repaired


def _nothing() -> None:
    pass
