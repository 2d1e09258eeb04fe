"""The PySide6 tablet client. Nothing in the core imports this package.

Widgets reach the core only through :mod:`fieldapp.ui.ops`; strings live in
:mod:`fieldapp.ui.i18n`; error codes become sentences in :mod:`fieldapp.ui.messages`.
"""
