CREATE TABLE `console_session_revocations` (
	`session_id` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `console_session_revocations_expires_idx` ON `console_session_revocations` (`expires_at`);--> statement-breakpoint
ALTER TABLE `usage_events` ADD `source` text DEFAULT 'api' NOT NULL;