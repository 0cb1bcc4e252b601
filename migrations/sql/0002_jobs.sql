CREATE TABLE `job_items` (
	`job_id` text NOT NULL,
	`n` integer NOT NULL,
	`text` text NOT NULL,
	`voice` integer NOT NULL,
	`emotion` text,
	`emotion_vector` text,
	`emotion_alpha` real,
	`speed` real NOT NULL,
	`seed` integer NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`max_attempts` integer NOT NULL,
	`available_at` integer NOT NULL,
	`lease_token` text,
	`error_code` text,
	`error_message` text,
	`audio_ms` integer,
	`tokens` integer,
	`amount_micros` integer,
	`pcm_bytes` integer,
	`pcm_format` text,
	`completed_at` integer,
	PRIMARY KEY(`job_id`, `n`),
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "job_items_state_check" CHECK("job_items"."state" in ('queued','running','finishing','done','failed','cancelled')),
	CONSTRAINT "job_items_attempts_check" CHECK(typeof("job_items"."attempts") = 'integer' and "job_items"."attempts" >= 0),
	CONSTRAINT "job_items_max_attempts_check" CHECK("job_items"."max_attempts" > 0),
	CONSTRAINT "job_items_amount_check" CHECK("job_items"."amount_micros" is null or (typeof("job_items"."amount_micros") = 'integer' and "job_items"."amount_micros" >= 0))
);
--> statement-breakpoint
CREATE INDEX `job_items_due_idx` ON `job_items` (`available_at`,`job_id`,`n`) WHERE "job_items"."state" in ('queued', 'running', 'finishing');--> statement-breakpoint
CREATE INDEX `job_items_job_state_idx` ON `job_items` (`job_id`,`state`);--> statement-breakpoint
CREATE TABLE `jobs` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`api_key_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`pool` text NOT NULL,
	`prefer_off_peak` integer NOT NULL,
	`item_count` integer NOT NULL,
	`metadata` text,
	`callback_url` text,
	`callback_secret` text,
	`callback_state` text,
	`callback_attempts` integer DEFAULT 0 NOT NULL,
	`callback_next_at` integer,
	`callback_last_error` text,
	`created_at` integer NOT NULL,
	`cancelled_at` integer,
	`finished_at` integer,
	`expires_at` integer,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`api_key_id`) REFERENCES `api_keys`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "jobs_callback_state_check" CHECK("jobs"."callback_state" in ('pending','delivered','failed')),
	CONSTRAINT "jobs_item_count_check" CHECK("jobs"."item_count" > 0)
);
--> statement-breakpoint
CREATE INDEX `jobs_customer_idx` ON `jobs` (`customer_id`,`id`);--> statement-breakpoint
CREATE INDEX `jobs_expires_idx` ON `jobs` (`expires_at`);--> statement-breakpoint
CREATE INDEX `jobs_callback_idx` ON `jobs` (`callback_state`,`callback_next_at`);