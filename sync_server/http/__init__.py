"""What every answer and request passes through, whatever the front end.

    headers.py      security headers, the pages' content policy, bodies refused by size
    same_origin.py  back-office POSTs only from the back office's own pages
"""
