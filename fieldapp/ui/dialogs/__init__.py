"""The tablet's dialogs: camera, completion, customer search, login, settings, unlock and
the idle lock that raises it."""
