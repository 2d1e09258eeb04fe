"""The PySide6 tablet client. Nothing in the core imports this package.

    app.py, main_window.py   start-up and the window; context.py what every screen shares
    ops/                     the only door from widgets into the core, one module per area
    taskman.py               the one database worker, the slow-work pool, results on the UI
    sync_worker.py           the sync thread; collector.py gc on the UI thread only
    screens/ dialogs/ widgets/   what the technician sees
    i18n/                    strings, languages and the sentences for error codes
    signal_refs.py           emit() and disconnect() without losing references to True;
                             None kept alive though every void Qt call loses one
"""

from fieldapp.ui import signal_refs

# Before any screen emits a signal or draws: this PySide loses a reference to True with
# each emit, and one to None with each Qt call that returns nothing.
signal_refs.install()
