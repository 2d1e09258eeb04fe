"""网上营业厅: the customer self-service portal, served under /portal/ by the sync server.

A household signs in with its account number, the phone on file and a one-time SMS code
(access.py); reads its gas use against the price tiers and its bills (account.py, chart.py);
pays through a payment provider's signed callbacks (payments.py); asks for a repair, an
installation, a transfer of ownership or an inspection visit, each becoming a job in the
dispatch center whose progress it follows and rates (service_requests.py, uploads.py); moves
an announced inspection from the reminder's signed link (keys.py); and searches the public
part of the knowledge base (help.py). Pages: pages_account.py and pages_requests.py.
"""

from sync_server.portal import pages_account, pages_requests

routers = (pages_account.router, pages_account.callbacks, pages_requests.router)
