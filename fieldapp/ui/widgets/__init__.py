"""Widgets and helpers the screens share: touch controls, the signature pad, the usage chart,
the job list's model and delegate, and how times and numbers are shown."""
