-- The ledger's indexes, fitted to what reads and deletes it.
--
-- `usage_by_guest` and `usage_by_ip` served no query: every read of the ledger picks
-- its rows by day first, which `usage_by_day` already does. Each was one more B-tree
-- insert for every model call.
DROP INDEX usage_by_guest;
DROP INDEX usage_by_ip;

-- Deleting a conversation deletes its messages, and each deleted message sets
-- `usage.message_id` to NULL in its rows: without an index that was a scan of the whole
-- ledger per message (4 s for a 50-message conversation over a million rows, holding
-- the write lock). Partial, because API calls have no message and so add nothing to it.
CREATE INDEX usage_by_message ON usage (message_id) WHERE message_id IS NOT NULL;
