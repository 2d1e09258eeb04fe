"""Bringing the utility's own data in from its billing system (CIS).

    table_file.py  a CSV (UTF-8 or GBK) or .xlsx export as a header and numbered rows
    mapping.py     which column holds which field, guessed and saved per source
    rows.py        a row read by field, its problems by row and column, the tally
    values.py      dates, moments, readings and money as the exports write them
    keyed.py       records written on their natural key, through the change log
    customers.py   customers and meters checked row by row, then written through the log
    contracts.py   supply contracts, by number
    readings.py    reading history, by meter and time, never going down
    bills.py       bills and so arrears, by customer, meter and period
    payments.py    payments, by customer, moment, amount and channel
    kinds.py       the list of them, in the order they build on each other
    accounts.py    technicians and office accounts, first passwords to a private file
    command.py     ``python -m sync_server import KIND FILE``
"""
