"""Bringing the utility's own data in from its billing system (CIS).

    table_file.py  a CSV (UTF-8 or GBK) or .xlsx export as a header and numbered rows
    mapping.py     which column holds which field, guessed and saved per source
    rows.py        a row read by field, its problems by row and column, the tally
    customers.py   customers and meters checked row by row, then written through the log
    accounts.py    technicians and office accounts, first passwords to a private file
    command.py     ``python -m sync_server import customers|accounts FILE``
"""
