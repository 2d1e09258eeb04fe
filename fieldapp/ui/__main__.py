"""``python -m fieldapp.ui``: run the tablet app."""

from fieldapp.ui.app import main

raise SystemExit(main())
