-- Mirrors sqlite/migrations/0015_impersonation.sql: the admin who acted as the user through an
-- impersonation session (and who started it) is recorded beside the user of every audit event
-- written in it; empty otherwise. An impersonation session is a first-party session whose act
-- column (0009) names the admin.
ALTER TABLE audit_events ADD COLUMN actor_id TEXT COLLATE "C" NOT NULL DEFAULT '';
