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


def _drops_none() -> bool:
    """Whether a Qt method that returns nothing takes a reference to None away: this
    PySide (6.12) returns None without the reference it owes from every one of them
    (``setText``, ``update``, every ``QPainter.draw…``). None is freed, and the process
    aborts (``Fatal Python error: none_dealloc``), after as many calls as there are
    references to None, some tens of thousands: one pan of a map with a district's mains."""
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBES):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= _PROBES // 2


def _pin_none() -> None:
    """Give None so many references that no number of lost ones frees it: what Python
    3.12 does for every such object (PEP 683, immortal objects). Only on 3.11, whose None
    counts references at the start of the object (``PyObject.ob_refcnt``)."""
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 48


def install() -> list[str]:
    """Repair ``emit`` and ``disconnect`` if this binding needs it, and keep None alive if
    its methods lose references to it (once per process); returns what was repaired."""
    global _installed
    if _installed:
        return []
    _installed = True
    repaired = []
    if sys.version_info < (3, 12) and _drops_none():
        _pin_none()
        repaired.append("None")
    probe = _Probe()

    def connect_and_disconnect() -> object:
        probe.ping.connect(_nothing)
        return probe.ping.disconnect(_nothing)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _drops_a_reference(probe.ping.emit):
            repaired.append("emit")
        if _drops_a_reference(connect_and_disconnect):
            repaired.append("disconnect")
    for name in repaired:
        if name != "None":
            setattr(SignalInstance, name, _repaired(getattr(SignalInstance, name)))
    return repaired


def _nothing() -> None:
    pass
