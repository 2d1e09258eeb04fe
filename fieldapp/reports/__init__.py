"""Documents made on the tablet and on the server from the same data.

    map.py                offline map of today's jobs (self-contained HTML)
    report_data.py        InspectionReport: one submission as documents print it, its
                          content hash, and the loaders (replica, SQLite, any query function)
    lines.py              how answers and hazards read on paper
    pdf_common.py         CJK font, styles, QR code, deterministic reportlab output
    sections.py           header, answers, hazards, photos, signature, history, footer
    inspection_pdf.py     居民户内燃气安全检查报告
    rectification_pdf.py  燃气安全隐患整改通知书
    repair_pdf.py         维修工单报告
"""
