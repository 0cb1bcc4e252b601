PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_queue_dead_letters` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`queue` text NOT NULL,
	`message_id` text NOT NULL,
	`kind` text NOT NULL,
	`request_id` text,
	`customer_id` text,
	`amount_micros` integer,
	`currency` text,
	`body` text NOT NULL,
	`problem` text,
	`attempts` integer NOT NULL,
	`received_at` integer NOT NULL,
	`resolved_at` integer,
	`resolution` text,
	`replay_attempts` integer DEFAULT 0 NOT NULL,
	`next_replay_at` integer,
	`last_error` text,
	CONSTRAINT "queue_dead_letters_kind_check" CHECK("__new_queue_dead_letters"."kind" in ('usage','job')),
	CONSTRAINT "queue_dead_letters_resolution_check" CHECK("__new_queue_dead_letters"."resolution" in ('replayed','requeued','given_up','discarded'))
);
--> statement-breakpoint
INSERT INTO `__new_queue_dead_letters`("id", "queue", "message_id", "kind", "request_id", "customer_id", "amount_micros", "currency", "body", "problem", "attempts", "received_at", "resolved_at", "resolution", "replay_attempts", "next_replay_at", "last_error") SELECT "id", "queue", "message_id", "kind", "request_id", "customer_id", "amount_micros", "currency", "body", "problem", "attempts", "received_at", "resolved_at", "resolution", "replay_attempts", "next_replay_at", "last_error" FROM `queue_dead_letters`;--> statement-breakpoint
DROP TABLE `queue_dead_letters`;--> statement-breakpoint
ALTER TABLE `__new_queue_dead_letters` RENAME TO `queue_dead_letters`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `queue_dead_letters_message_idx` ON `queue_dead_letters` (`queue`,`message_id`);--> statement-breakpoint
CREATE INDEX `queue_dead_letters_open_idx` ON `queue_dead_letters` (`kind`,`resolved_at`);--> statement-breakpoint
CREATE INDEX `queue_dead_letters_request_idx` ON `queue_dead_letters` (`kind`,`request_id`);