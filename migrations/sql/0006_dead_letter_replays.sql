ALTER TABLE `queue_dead_letters` ADD `replay_attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `queue_dead_letters` ADD `next_replay_at` integer;--> statement-breakpoint
ALTER TABLE `queue_dead_letters` ADD `last_error` text;--> statement-breakpoint
CREATE INDEX `queue_dead_letters_request_idx` ON `queue_dead_letters` (`kind`,`request_id`);