"""The printed documents' kinds (in their verification links) and the notice's title.

Apart from the renderers so that the server names them without loading reportlab, which
only a PDF download needs (about 0.2 s of every server start otherwise).
"""

from __future__ import annotations

INSPECTION = "inspection"
REPAIR = "repair"
NOTICE = "notice"
NOTICE_TITLE = "燃气安全隐患整改通知书"
