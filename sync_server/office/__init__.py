"""The back office (/office/): server-rendered pages, no scripts.

    web.py         what every page uses: its user, roles, districts, labels, rendering
    auth.py        a browser session's sign-in
    dispatch.py    调度中心 board, new jobs, a job's page, and the JSON API for other systems
    audit.py, billing.py, kpis.py, parts.py, rules.py, users.py   one page area each
    job_map.py, photo_map.py   the server-drawn SVG maps
    csv_export.py  every CSV export, formula-safe
    public_verify.py  the page a printout's QR code opens, no sign-in
"""
