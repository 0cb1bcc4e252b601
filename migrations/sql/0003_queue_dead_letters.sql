CREATE TABLE `queue_dead_letters` (
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
	CONSTRAINT "queue_dead_letters_kind_check" CHECK("queue_dead_letters"."kind" in ('usage','job')),
	CONSTRAINT "queue_dead_letters_resolution_check" CHECK("queue_dead_letters"."resolution" in ('replayed','requeued','discarded'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `queue_dead_letters_message_idx` ON `queue_dead_letters` (`queue`,`message_id`);--> statement-breakpoint
CREATE INDEX `queue_dead_letters_open_idx` ON `queue_dead_letters` (`kind`,`resolved_at`);