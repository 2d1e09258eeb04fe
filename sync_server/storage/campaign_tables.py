"""Server migration 24: safety-notice campaigns (services/campaigns.py) and the customers
who asked not to receive them.

``campaigns`` keeps each campaign as it was sent: who, when, the filter and the counts the
sender saw. Its messages are ordinary ``notifications`` rows naming the campaign; the unique
index on (campaign_id, customer_id) is what makes a double submit or a retried send message
nobody twice (NULLs are distinct, so rule and billing messages are not touched by it).
``campaign_opt_outs`` holds only the customers who opted out: absence means they receive
campaigns; service messages (job done, appointment, bills) never look at it.
Plain DDL only, so postgres.pg_ddl derives the PostgreSQL version as for every migration.
"""

from __future__ import annotations

CAMPAIGNS_DDL = """
CREATE TABLE campaigns (
  id TEXT PRIMARY KEY, text TEXT NOT NULL, tags TEXT NOT NULL, match TEXT NOT NULL,
  districts TEXT NOT NULL, day TEXT NOT NULL, created_by TEXT NOT NULL,
  created_at TEXT NOT NULL, planned INTEGER NOT NULL, excluded TEXT NOT NULL,
  written INTEGER NOT NULL DEFAULT 0, held_back INTEGER NOT NULL DEFAULT 0,
  finished_at TEXT);
CREATE INDEX campaigns_created ON campaigns(created_at);
ALTER TABLE notifications ADD COLUMN campaign_id TEXT;
CREATE UNIQUE INDEX notifications_campaign ON notifications(campaign_id, customer_id);
CREATE INDEX notifications_customer ON notifications(customer_id, id);
CREATE TABLE campaign_opt_outs (
  customer_id TEXT PRIMARY KEY, at TEXT NOT NULL, by_user TEXT NOT NULL,
  source TEXT NOT NULL);
"""
