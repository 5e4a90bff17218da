-- Impersonation: the admin who acted as the user through an impersonation session (and who
-- started it) is recorded beside the user of every audit event written in it; empty otherwise.
-- Sessions need nothing new: an impersonation session is a first-party session whose act column
-- (0009) names the admin.
ALTER TABLE audit_events ADD COLUMN actor_id TEXT NOT NULL DEFAULT '';
