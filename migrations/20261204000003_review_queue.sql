-- The review queue: which conversations may be reviewed and exported, as one predicate
-- (`db::reviews::policy_rank`). `least_policy` is the least `data_policy` under which a
-- conversation is eligible: 0 (`off`: a dataset batch, the operator's own data),
-- 1 (`accounts`: a user who has not opted out), 2 (`all`: a guest), NULL (never: a user
-- who opted out). A conversation is eligible when `least_policy <= rank(data_policy)`.
-- Deleted conversations are gone with their rows.
CREATE VIEW conversation_consent AS
SELECT c.id AS conversation_id,
       CASE
           WHEN c.batch_id IS NOT NULL THEN 0
           WHEN c.user_id IS NOT NULL
               THEN (SELECT 1 FROM users u WHERE u.id = c.user_id AND u.data_opt_out = 0)
           WHEN c.guest_id IS NOT NULL THEN 2
       END AS least_policy
FROM conversations c;
